package dev.swarmd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.github.dockerjava.api.model.Container;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * What a test class drives: one swarmd on its own loopback address {@code 127.0.0.N}:2375 with its own data root and
 * hostname (so classes never collide and containers can be told apart on the shared engine), its docker CLI, the
 * engine, and raw HTTP.
 *
 * <p>With {@code -Dit.reference=true} there is no swarmd: the CLI talks to the engine itself and
 * {@link #swarmInit()} puts the engine into Docker's own swarm mode (advertise 127.0.0.1), left again by
 * {@link #close()}. That mode exists to check the tests' expected outputs against the real Docker; run one class at a
 * time with it, and never while something else uses the engine's swarm mode.
 */
public final class TestNode implements AutoCloseable {
    public static final String API = "/v1.41";

    /** Threads for {@link #startAll} and {@link #closeAll} (the common pool may have a single thread). */
    private static final java.util.concurrent.ExecutorService PARALLEL =
            java.util.concurrent.Executors.newCachedThreadPool(r -> {
                Thread t = new Thread(r, "it-node-start-stop");
                t.setDaemon(true);
                return t;
            });

    private final String label;
    private final String address;
    private final SwarmdProcess daemon;
    private final Engine engine;
    private final DockerCli cli;
    private final RawHttp raw;
    private final String hostname;
    private String nodeId;
    private boolean swarmActive;

    private TestNode(String label, String address, SwarmdProcess daemon, Engine engine, String hostname) {
        this.label = label;
        this.address = address;
        this.daemon = daemon;
        this.engine = engine;
        this.hostname = hostname;
        this.cli = new DockerCli(daemon == null ? ItConfig.engineHost() : daemon.dockerHost(), label);
        this.raw = daemon == null ? RawHttp.engine(engine) : RawHttp.tcp(address, SwarmdProcess.API_PORT);
    }

    /**
     * Starts swarmd on 127.0.0.{@code n}:2375 with hostname {@code it-<label>} (after removing any container a
     * previous aborted run left with that hostname).
     */
    public static TestNode start(String label, int n) {
        return start(label, n, List.of());
    }

    /** The same, with more flags for the daemon. */
    public static TestNode start(String label, int n, List<String> extraArgs) {
        Engine engine = Engine.connect();
        for (String image : List.of("swarmd-test/busybox:latest", "alpine:latest", "busybox:latest")) {
            assertTrue(engine.imageExists(image),
                    "test image " + image + " is missing on the engine: run scripts/build-test-images first");
        }
        if (ItConfig.reference()) {
            String state = engine.client().infoCmd().exec().getSwarm().getLocalNodeState().getValue();
            if (!"inactive".equals(state)) {
                System.err.println("[it-tests] reference mode: the engine's swarm mode is " + state
                        + " (someone else is using it); " + label + " skipped");
            }
            assumeTrue("inactive".equals(state), "reference mode needs an engine outside swarm mode, it is " + state);
            String host = engine.client().infoCmd().exec().getName();
            return new TestNode(label, "127.0.0.1", null, engine, host);
        }
        String hostname = "it-" + label;
        engine.removeAllWithLabel(Engine.SWARMD_HOSTNAME, hostname);
        String address = "127.0.0." + n;
        SwarmdProcess daemon = SwarmdProcess.start(address, hostname, extraArgs);
        return new TestNode(label, address, daemon, engine, hostname);
    }

    public boolean reference() {
        return daemon == null;
    }

    /** The address given as --advertise-addr and expected in the join command and node address. */
    public String advertiseAddr() {
        return address;
    }

    /** The node's hostname as `docker node ls` shows it. */
    public String hostname() {
        return hostname;
    }

    public String nodeId() {
        return nodeId;
    }

    public DockerCli cli() {
        return cli;
    }

    public Engine engine() {
        return engine;
    }

    public RawHttp raw() {
        return raw;
    }

    public SwarmdProcess daemon() {
        return daemon;
    }

    /** docker -H ... */
    public String dockerHost() {
        return cli.dockerHost();
    }

    /** {@code docker swarm init --advertise-addr <addr>}; remembers the node ID (from `docker info`). */
    public CliResult swarmInit() {
        CliResult r = cli.run("swarm", "init", "--advertise-addr", address);
        if (r.exitCode() == 0) {
            swarmActive = true;
            nodeId = cli.run("info", "--format", "{{.Swarm.NodeID}}").ok().stdout().trim();
        }
        return r;
    }

    /**
     * {@code docker swarm <args...>} for a join (e.g. {@code join --token T 127.0.0.31:2377}, as a manager's
     * join-token prints it); on success remembers the node ID (from `docker info`) as {@link #swarmInit()} does.
     */
    public CliResult swarmJoin(List<String> joinArgs) {
        List<String> args = new java.util.ArrayList<>(List.of("swarm"));
        args.addAll(joinArgs);
        CliResult r = cli.run(args.toArray(String[]::new));
        if (r.exitCode() == 0) {
            swarmActive = true;
            nodeId = cli.run("info", "--format", "{{.Swarm.NodeID}}").ok().stdout().trim();
        }
        return r;
    }

    /** The swarm state `docker info` reports: inactive, pending, active, ... */
    public String localNodeState() {
        return cli.run("info", "--format", "{{.Swarm.LocalNodeState}}").ok().stdout().trim();
    }

    /**
     * Starts several daemons at once, as {@link #start(String, int)} does one by one (labels[i] on
     * 127.0.0.{@code ns[i]}); if one of them cannot start, those that did are stopped again.
     */
    public static List<TestNode> startAll(List<String> labels, List<Integer> ns) {
        if (labels.size() != ns.size()) {
            throw new IllegalArgumentException(labels + " / " + ns);
        }
        List<java.util.concurrent.CompletableFuture<TestNode>> futures = new java.util.ArrayList<>();
        for (int i = 0; i < labels.size(); i++) {
            String label = labels.get(i);
            int n = ns.get(i);
            futures.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> start(label, n), PARALLEL));
        }
        List<TestNode> started = new java.util.ArrayList<>();
        RuntimeException failure = null;
        for (java.util.concurrent.CompletableFuture<TestNode> f : futures) {
            try {
                started.add(f.join());
            } catch (java.util.concurrent.CompletionException e) {
                if (failure == null) {
                    failure = e.getCause() instanceof RuntimeException re ? re : e;
                } else {
                    failure.addSuppressed(e.getCause());
                }
            }
        }
        if (failure != null) {
            closeAll(started);
            throw failure;
        }
        return started;
    }

    /** Closes several nodes at once (each stop waits for its daemon); never throws for one that fails. */
    public static void closeAll(List<TestNode> nodes) {
        List<java.util.concurrent.CompletableFuture<Void>> futures = new java.util.ArrayList<>();
        for (TestNode n : nodes) {
            if (n != null) {
                futures.add(java.util.concurrent.CompletableFuture.runAsync(n::close, PARALLEL));
            }
        }
        for (java.util.concurrent.CompletableFuture<Void> f : futures) {
            try {
                f.join();
            } catch (java.util.concurrent.CompletionException e) {
                System.err.println("[it-tests] closing a node failed: " + e.getCause());
            }
        }
    }

    /** Runs the docker CLI and fails the test unless it exits 0. */
    public CliResult docker(String... args) {
        return cli.run(args).ok();
    }

    /** Labels that select this node's containers of {@code service} on the shared engine. */
    public Map<String, String> serviceLabels(String service) {
        return reference()
                ? Engine.labels(Engine.SERVICE_NAME, service)
                : Engine.labels(Engine.SERVICE_NAME, service, Engine.SWARMD_HOSTNAME, hostname);
    }

    /** This node's running containers of {@code service}, newest first. */
    public List<Container> running(String service) {
        return engine.containers(serviceLabels(service), false);
    }

    /** This node's containers of {@code service}, running or not, newest first. */
    public List<Container> allContainers(String service) {
        return engine.containers(serviceLabels(service), true);
    }

    /** Every container of this node on the engine, running or not. */
    public List<Container> allContainers() {
        return engine.containers(reference()
                ? Engine.labels(Engine.NODE_ID, nodeId)
                : Engine.labels(Engine.SWARMD_HOSTNAME, hostname), true);
    }

    /** Waits until exactly {@code n} containers of {@code service} run; returns them. */
    public List<Container> awaitRunning(String service, int n) {
        return Eventually.awaitValue(n + " running containers of service " + service, () -> {
            List<Container> list = running(service);
            assertEquals(n, list.size(), "running containers of " + service + ": " + Engine.describe(list));
            return list;
        });
    }

    /** The slots of the given containers, sorted. */
    public static List<Integer> slots(List<Container> list) {
        return list.stream().map(Engine::slot).sorted().collect(Collectors.toList());
    }

    /** Kills the daemon with SIGKILL (not available in reference mode). */
    public void kill9() {
        requireSwarmd();
        daemon.kill9();
    }

    /** Freezes the daemon with SIGSTOP (not available in reference mode); {@link #sigcont()} lets it run again. */
    public void sigstop() {
        requireSwarmd();
        daemon.sigstop();
    }

    /** Continues a daemon {@link #sigstop()} froze; nothing if none is frozen. */
    public void sigcont() {
        requireSwarmd();
        daemon.sigcont();
    }

    /** Starts the daemon again on the same data root and waits for _ping. */
    public void startAgain() {
        requireSwarmd();
        daemon.start();
    }

    private void requireSwarmd() {
        if (daemon == null) {
            throw new IllegalStateException("not possible in reference mode");
        }
    }

    @Override
    public void close() {
        try {
            if (daemon != null) {
                daemon.stop();
            } else if (swarmActive) {
                cli.run("swarm", "leave", "--force");
                if (nodeId != null) {
                    engine.removeAllWithLabel(Engine.NODE_ID, nodeId);
                }
            }
        } finally {
            engine.close();
        }
    }
}
