package dev.swarmd.it.history;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

/**
 * Records the clients' updates as they happen, with {@link System#nanoTime()} around each one. Shared by all client
 * threads; each call holds the lock only to add to a list, which is nothing next to an HTTP request.
 */
public final class HistoryRecorder {
    private final Set<String> labels = new HashSet<>();
    private final Map<String, Op.Pending> inFlight = new LinkedHashMap<>();
    private final List<Op> completed = new ArrayList<>();

    /** Call right before sending the request. */
    public synchronized Op.Pending invoke(String client, String service, String label, long expectedVersion) {
        if (!labels.add(label)) {
            throw new IllegalArgumentException("label " + label + " was already used: the journal could not tell the updates apart");
        }
        Op.Pending pending = new Op.Pending(client, service, label, expectedVersion, System.nanoTime());
        inFlight.put(label, pending);
        return pending;
    }

    /** HTTP 200; {@code newVersion} if the client read the service's version back. */
    public void ok(Op.Pending pending, OptionalLong newVersion) {
        complete(pending, Outcome.OK, newVersion);
    }

    /** HTTP 4xx: the update was not applied. */
    public void failed(Op.Pending pending) {
        complete(pending, Outcome.FAILED, OptionalLong.empty());
    }

    /** Timeout, reset connection, 5xx: the client gives up now, not knowing whether the update was applied. */
    public void unknown(Op.Pending pending) {
        complete(pending, Outcome.UNKNOWN, OptionalLong.empty());
    }

    private synchronized void complete(Op.Pending pending, Outcome outcome, OptionalLong newVersion) {
        long now = System.nanoTime();
        if (inFlight.remove(pending.label()) == null) {
            throw new IllegalStateException("update " + pending.label() + " was already completed");
        }
        completed.add(pending.complete(now, outcome, newVersion));
    }

    /**
     * The completed updates, and the ones still in flight as UNKNOWN given up on now: a request whose client never
     * came back (a stuck or killed thread) may still have been applied, and must not pass for a foreign write.
     */
    public synchronized List<Op> ops() {
        long now = System.nanoTime();
        List<Op> ops = new ArrayList<>(completed);
        inFlight.values().forEach(p -> ops.add(p.complete(now, Outcome.UNKNOWN, OptionalLong.empty())));
        return ops;
    }
}
