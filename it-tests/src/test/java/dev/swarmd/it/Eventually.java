package dev.swarmd.it;

import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * Polls until an assertion holds or a generous deadline passes. Waiting is how these tests deal with convergence;
 * no test ever fails because something was merely slow within the bound, and no test asserts on a duration.
 * On timeout the last failure (assertion or exception) is rethrown as the cause, so the report says what was seen.
 */
public final class Eventually {
    /** Default bound for convergence: containers started, tasks replaced, etc. */
    public static final Duration CONVERGE = Duration.ofSeconds(90);
    private static final Duration POLL = Duration.ofMillis(300);

    private Eventually() {}

    @FunctionalInterface
    public interface Check {
        void run() throws Exception;
    }

    public static void await(String what, Check check) {
        await(what, CONVERGE, check);
    }

    public static void await(String what, Duration timeout, Check check) {
        awaitValue(what, timeout, () -> {
            check.run();
            return Boolean.TRUE;
        });
    }

    public static <T> T awaitValue(String what, Callable<T> probe) {
        return awaitValue(what, CONVERGE, probe);
    }

    /** Calls {@code probe} until it returns without throwing; returns its value. */
    public static <T> T awaitValue(String what, Duration timeout, Callable<T> probe) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Throwable last = null;
        int attempts = 0;
        while (true) {
            attempts++;
            try {
                return probe.call();
            } catch (AssertionError | Exception e) {
                last = e;
            }
            if (System.nanoTime() - deadline > 0) {
                AssertionError err = new AssertionError(
                        "gave up after " + timeout.toSeconds() + "s (" + attempts + " attempts) waiting for: " + what
                                + "\nlast failure: " + last, last);
                throw err;
            }
            try {
                Thread.sleep(POLL.toMillis());
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for: " + what, last);
            }
        }
    }

    /** Sleeps, for the places where a test must give wrong behaviour (duplicates, restarts) a chance to show. */
    public static void settle(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
