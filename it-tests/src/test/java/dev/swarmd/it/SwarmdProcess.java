package dev.swarmd.it;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One {@code bin/swarmd} process: started with ProcessBuilder in the foreground, output appended to a log file under
 * target/it-logs, ready when {@code GET /_ping} answers 200 "OK". It can be killed with SIGKILL at any moment and
 * started again on the same data root. {@link #stop()} also removes every container on the engine labelled with
 * this daemon's hostname.
 */
public final class SwarmdProcess implements AutoCloseable {
    public static final int API_PORT = 2375;
    public static final Duration READY_TIMEOUT = Duration.ofSeconds(120);

    /** Daemons this JVM started and has not stopped: killed by a shutdown hook if the test JVM ends early. */
    private static final java.util.Set<SwarmdProcess> LIVE = java.util.concurrent.ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            for (SwarmdProcess p : LIVE) {
                try {
                    p.kill9();
                    p.removeContainers();
                } catch (RuntimeException | Error ignored) {
                    // best effort at JVM exit
                }
            }
        }, "swarmd-it-cleanup"));
    }

    private final String address;
    private final Path dataRoot;
    private final String hostname;
    private final String engine;
    private final Path logFile;
    /** Flags beyond the address, data root, hostname and engine. */
    private final List<String> extraArgs;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private Process process;
    private int starts;
    /** The JVM {@link #sigstop()} stopped and no {@link #sigcont()} has continued yet, else -1. */
    private long stoppedPid = -1;

    public SwarmdProcess(String address, Path dataRoot, String hostname, String engine, Path logFile) {
        this(address, dataRoot, hostname, engine, logFile, List.of());
    }

    public SwarmdProcess(String address, Path dataRoot, String hostname, String engine, Path logFile,
            List<String> extraArgs) {
        this.extraArgs = List.copyOf(extraArgs);
        this.address = address;
        this.dataRoot = dataRoot;
        this.hostname = hostname;
        this.engine = engine;
        this.logFile = logFile;
    }

    /** Starts a daemon on {@code address}:2375 with a fresh data root under target/it-work. */
    public static SwarmdProcess start(String address, String hostname) {
        return start(address, hostname, List.of());
    }

    /** The same, with more flags. */
    public static SwarmdProcess start(String address, String hostname, List<String> extraArgs) {
        Path dataRoot;
        try {
            dataRoot = Files.createTempDirectory(ItConfig.workDir(), "data-" + hostname + "-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        SwarmdProcess p = new SwarmdProcess(address, dataRoot, hostname, ItConfig.engineHost(),
                ItConfig.logDir().resolve("swarmd-" + hostname + ".log"), extraArgs);
        p.start();
        return p;
    }

    public String address() {
        return address;
    }

    public String dockerHost() {
        return "tcp://" + address + ":" + API_PORT;
    }

    public String hostname() {
        return hostname;
    }

    public Path dataRoot() {
        return dataRoot;
    }

    public Path logFile() {
        return logFile;
    }

    public synchronized boolean isAlive() {
        return process != null && process.isAlive();
    }

    public synchronized long pid() {
        return process.pid();
    }

    /**
     * The daemon's JVM: the launcher itself when it execs java (it does once a class-data archive exists), else the
     * java process it runs as its child.
     */
    public synchronized long jvmPid() {
        if (process == null) {
            throw new IllegalStateException("swarmd " + hostname + " is not running");
        }
        ProcessHandle launcher = process.toHandle();
        return java.util.stream.Stream.concat(java.util.stream.Stream.of(launcher), launcher.descendants())
                .filter(h -> h.info().command().map(c -> c.endsWith("/java")).orElse(false))
                .findFirst().map(ProcessHandle::pid)
                .orElseThrow(() -> new IllegalStateException("no java process under swarmd " + hostname));
    }

    /** Freezes the daemon's JVM with SIGSTOP, as a long GC pause or a stalled VM would; {@link #sigcont()} undoes it. */
    public synchronized void sigstop() {
        long pid = jvmPid();
        appendLog("\n===== it-tests: SIGSTOP of pid " + pid + " at " + Instant.now() + "\n");
        signal("STOP", pid);
        stoppedPid = pid;
    }

    /** Continues the JVM {@link #sigstop()} stopped, if any. */
    public synchronized void sigcont() {
        if (stoppedPid < 0) {
            return;
        }
        signal("CONT", stoppedPid);
        appendLog("\n===== it-tests: SIGCONT of pid " + stoppedPid + " at " + Instant.now() + "\n");
        stoppedPid = -1;
    }

    private void signal(String name, long pid) {
        Host.Result r = Host.run("kill", "-" + name, Long.toString(pid));
        if (!r.ok()) {
            throw new IllegalStateException("kill -" + name + " " + pid + " (swarmd " + hostname + ") failed: "
                    + r.output());
        }
    }

    /** Starts the process (again, on the same data root) and waits until it answers _ping. */
    public synchronized void start() {
        if (isAlive()) {
            throw new IllegalStateException("swarmd " + hostname + " is already running");
        }
        Path launcher = ItConfig.swarmdLauncher();
        if (!Files.isRegularFile(launcher)) {
            throw new IllegalStateException("no launcher at " + launcher + " (swarmd.root=" + ItConfig.repoRoot() + ")");
        }
        if (portOpen(Duration.ofMillis(500))) {
            throw new IllegalStateException("something already listens on " + address + ":" + API_PORT
                    + " before swarmd " + hostname + " was started (a stray daemon from an earlier run?)");
        }
        List<String> cmd = new ArrayList<>(List.of(
                launcher.toString(),
                "-H", dockerHost(),
                "--data-root", dataRoot.toString(),
                "--hostname", hostname,
                "--engine", engine));
        cmd.addAll(extraArgs);
        starts++;
        appendLog("\n===== it-tests: start #" + starts + " at " + Instant.now() + ": " + String.join(" ", cmd) + "\n");
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(ItConfig.repoRoot().toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().keySet().removeIf(k -> k.startsWith("DOCKER_"));
        try {
            process = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + cmd, e);
        }
        LIVE.add(this);
        try {
            awaitReady(READY_TIMEOUT);
        } catch (RuntimeException | Error e) {
            // never leave a half-started daemon behind
            kill9();
            throw e;
        }
    }

    /** Kills the daemon with SIGKILL (the launcher and every process under it) and waits until it is gone. */
    public synchronized void kill9() {
        if (process == null) {
            return;
        }
        appendLog("\n===== it-tests: kill -9 at " + Instant.now() + "\n");
        List<ProcessHandle> tree = new ArrayList<>();
        tree.add(process.toHandle());
        process.toHandle().descendants().forEach(tree::add);
        for (ProcessHandle h : tree) {
            h.destroyForcibly();
        }
        for (ProcessHandle h : tree) {
            try {
                h.onExit().get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("process " + h.pid() + " of swarmd " + hostname + " did not die", e);
            }
        }
        process = null;
        stoppedPid = -1;
        LIVE.remove(this);
        Eventually.await("port " + address + ":" + API_PORT + " closed after kill -9", Duration.ofSeconds(30), () -> {
            if (portOpen(Duration.ofMillis(300))) {
                throw new AssertionError("still open");
            }
        });
    }

    /** kill -9, then start on the same data root. */
    public synchronized void restart() {
        kill9();
        start();
    }

    /**
     * Stops the daemon (SIGTERM, then SIGKILL after a grace period) and removes every container of the engine
     * labelled {@code dev.swarmd.node.hostname=<hostname>}.
     */
    public synchronized void stop() {
        if (process != null) {
            sigcont();
            appendLog("\n===== it-tests: stop at " + Instant.now() + "\n");
            List<ProcessHandle> tree = new ArrayList<>();
            tree.add(process.toHandle());
            process.toHandle().descendants().forEach(tree::add);
            tree.forEach(ProcessHandle::destroy);
            try {
                process.toHandle().onExit().get(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                // fall through to SIGKILL
            }
            kill9();
        }
        removeContainers();
    }

    /** Removes every container labelled with this daemon's hostname; returns how many. */
    public int removeContainers() {
        try (Engine e = Engine.connect()) {
            return e.removeAllWithLabel(Engine.SWARMD_HOSTNAME, hostname);
        }
    }

    @Override
    public void close() {
        stop();
    }

    /** Waits for {@code GET /_ping} -> 200; fails early, with the log's tail, if the process dies. */
    public void awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no answer yet";
        while (System.nanoTime() - deadline < 0) {
            Process p;
            synchronized (this) {
                p = process;
            }
            if (p == null || !p.isAlive()) {
                throw new IllegalStateException("swarmd " + hostname + " exited"
                        + (p == null ? "" : " with code " + p.exitValue()) + " before answering _ping; log tail:\n"
                        + logTail(60));
            }
            try {
                HttpResponse<String> r = http.send(
                        HttpRequest.newBuilder(URI.create("http://" + address + ":" + API_PORT + "/_ping"))
                                .timeout(Duration.ofSeconds(3)).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    // ready; that the body is exactly "OK" is checked by a test of its own
                    return;
                }
                last = "status " + r.statusCode() + " body " + r.body();
            } catch (ConnectException e) {
                last = "connection refused";
            } catch (IOException e) {
                last = e.toString();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            Eventually.settle(Duration.ofMillis(250));
        }
        throw new IllegalStateException("swarmd " + hostname + " did not answer GET /_ping with 200 within "
                + timeout.toSeconds() + "s (last: " + last + "); log tail:\n" + logTail(60));
    }

    private boolean portOpen(Duration timeout) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(address, API_PORT), (int) timeout.toMillis());
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public String logTail(int lines) {
        try {
            if (!Files.exists(logFile)) {
                return "(no log)";
            }
            List<String> all = Files.readAllLines(logFile, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(cannot read " + logFile + ": " + e + ")";
        }
    }

    /** The last lines that tell what the node went through: its warnings and its membership and Raft steps. */
    public String logEvents(int lines) {
        try {
            if (!Files.exists(logFile)) {
                return "(no log)";
            }
            List<String> events = Files.readAllLines(logFile, StandardCharsets.UTF_8).stream()
                    .filter(l -> l.contains(" WARN ") || l.contains(" ERROR ") || l.contains("LocalNode:")
                            || l.contains("ClusterJoin:") || l.contains("RaftLog:"))
                    .map(l -> l.length() > 300 ? l.substring(0, 300) + "..." : l)
                    .toList();
            return String.join("\n", events.subList(Math.max(0, events.size() - lines), events.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(cannot read " + logFile + ": " + e + ")";
        }
    }

    private void appendLog(String s) {
        try {
            Files.writeString(logFile, s, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException ignored) {
            // debugging aid only
        }
    }
}
