package dev.swarmd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.model.Container;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Helpers for the tests where several swarmd processes (one manager, workers) share the engine: who runs what
 * (containers told apart by {@code dev.swarmd.node.hostname}), the manager's node list, joining with the command
 * join-token prints.
 */
public final class MultiNode {
    public static final String TOKEN = "SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}";
    public static final String[] NODE_LS = {"ID", "HOSTNAME", "STATUS", "AVAILABILITY", "MANAGER STATUS", "ENGINE VERSION"};
    public static final String[] SERVICE_PS = {"ID", "NAME", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR", "PORTS"};
    public static final String WORKER_503 = "This node is not a swarm manager. Worker nodes can't be used to view or modify "
            + "cluster state. Please run this command on a manager node or promote the current node to a manager.";

    private MultiNode() {}

    public static String q(String s) {
        return Pattern.quote(s);
    }

    /**
     * `docker swarm join-token worker` on the manager, checked as Docker prints it; returns the printed command's
     * arguments after {@code docker swarm} (join --token T ADDR:2377).
     */
    public static List<String> printedJoinCommand(TestNode manager) {
        CliResult jt = manager.docker("swarm", "join-token", "worker");
        String line = Lines.assertInOrder(jt, "To add a worker to this swarm, run the following command:",
                "docker swarm join --token " + TOKEN + " " + q(manager.advertiseAddr()) + ":2377").group();
        List<String> words = Arrays.asList(line.trim().split("\\s+"));
        assertEquals(List.of("docker", "swarm"), words.subList(0, 2), jt.describe());
        return new ArrayList<>(words.subList(2, words.size()));
    }

    /** The manager's `docker node ls`, parsed. */
    public static Table nodeLs(TestNode manager) {
        return Table.parse(manager.docker("node", "ls"), NODE_LS);
    }

    /** The node ls row of {@code hostname}, or a failure. */
    public static Map<String, String> row(Table t, String hostname) {
        List<Map<String, String>> rows = t.where("HOSTNAME", hostname);
        assertEquals(1, rows.size(), "one row for " + hostname + " in\n" + t);
        return rows.get(0);
    }

    /** Waits until the manager's node ls shows {@code node} with this STATUS. */
    public static void awaitStatus(TestNode manager, TestNode node, String status) {
        Eventually.await(node.hostname() + " is " + status + " in the manager's node ls", () -> {
            Table t = nodeLs(manager);
            assertEquals(status, row(t, node.hostname()).get("STATUS"), t.toString());
        });
        if (status.equals("Ready")) {
            // the manager sees a member up a gossip round before the member itself does
            Eventually.await(node.hostname() + " sees itself active", () ->
                    assertEquals("active", node.localNodeState()));
        }
    }

    /** Running containers of {@code service} per node hostname (every given node has an entry, maybe empty). */
    public static Map<String, List<Container>> runningByHost(Engine engine, String service, List<TestNode> nodes) {
        Map<String, List<Container>> m = new LinkedHashMap<>();
        for (TestNode n : nodes) {
            m.put(n.hostname(), engine.containers(Engine.labels(Engine.SERVICE_NAME, service,
                    Engine.SWARMD_HOSTNAME, n.hostname()), false));
        }
        return m;
    }

    /** How many containers of {@code service} run on each node, by hostname. */
    public static Map<String, Integer> counts(Engine engine, String service, List<TestNode> nodes) {
        Map<String, Integer> m = new TreeMap<>();
        runningByHost(engine, service, nodes).forEach((h, l) -> m.put(h, l.size()));
        return m;
    }

    /** Every running container of {@code service} on any of the given nodes. */
    public static List<Container> running(Engine engine, String service, List<TestNode> nodes) {
        return runningByHost(engine, service, nodes).values().stream().flatMap(List::stream).collect(Collectors.toList());
    }

    /** Every container of {@code service} (running or not) on any of the given nodes. */
    public static List<Container> all(Engine engine, String service, List<TestNode> nodes) {
        List<Container> all = new ArrayList<>();
        for (TestNode n : nodes) {
            all.addAll(engine.containers(Engine.labels(Engine.SERVICE_NAME, service,
                    Engine.SWARMD_HOSTNAME, n.hostname()), true));
        }
        return all;
    }

    /** Asserts that each container carries the node ID of the node whose hostname label it has. */
    public static void assertNodeIdLabels(Map<String, List<Container>> byHost, List<TestNode> nodes) {
        for (TestNode n : nodes) {
            for (Container c : byHost.getOrDefault(n.hostname(), List.of())) {
                assertEquals(n.nodeId(), c.getLabels().get(Engine.NODE_ID),
                        "com.docker.swarm.node.id of " + Engine.name(c) + " on " + n.hostname());
            }
        }
    }

    public static String describe(Map<String, List<Container>> byHost) {
        StringBuilder sb = new StringBuilder();
        byHost.forEach((h, l) -> sb.append(h).append(": ").append(Engine.describe(l)).append('\n'));
        return sb.toString();
    }

    /** Waits until the service's containers run exactly {@code expected} (hostname -> count) on the given nodes. */
    public static Map<String, List<Container>> awaitCounts(Engine engine, String service, List<TestNode> nodes,
            Map<String, Integer> expected) {
        return Eventually.awaitValue(service + " runs " + expected, () -> {
            Map<String, List<Container>> byHost = runningByHost(engine, service, nodes);
            Map<String, Integer> got = new TreeMap<>();
            byHost.forEach((h, l) -> got.put(h, l.size()));
            assertEquals(new TreeMap<>(expected), got, describe(byHost));
            return byHost;
        });
    }

    /** Asserts that the running containers hold each of the slots 1..n exactly once. */
    public static void assertSlotsOnce(List<Container> running, int n) {
        List<Integer> want = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            want.add(i);
        }
        assertEquals(want, TestNode.slots(running), "each slot runs exactly once: " + Engine.describe(running));
    }

    public static Map<String, Integer> expect(Object... hostCount) {
        Map<String, Integer> m = new TreeMap<>();
        for (int i = 0; i < hostCount.length; i += 2) {
            m.put((String) hostCount[i], (Integer) hostCount[i + 1]);
        }
        return m;
    }

    /**
     * {@code docker service create -d --name NAME opts... alpine sleep 3600}, with a 1 s stop grace period: `sleep` as
     * PID 1 ignores SIGTERM, so every stop (rm, drain, stale task) would otherwise wait out Docker's default 10 s.
     */
    public static String[] create(String name, String... opts) {
        List<String> args = new ArrayList<>(List.of("service", "create", "-d", "--stop-grace-period", "1s", "--name", name));
        args.addAll(Arrays.asList(opts));
        args.addAll(List.of("alpine", "sleep", "3600"));
        return args.toArray(String[]::new);
    }

    /** The node's saved swarm state (data-root/swarm/state.json). */
    public static Path stateFile(TestNode node) {
        return node.daemon().dataRoot().resolve("swarm").resolve("state.json");
    }

    public static boolean hasSwarmState(TestNode node) {
        return Files.exists(stateFile(node));
    }

    /** Asserts that the CLI run failed with exit code 1 and said {@code text} on stderr. */
    public static void assertRefused(CliResult r, String text) {
        assertEquals(1, r.exitCode(), r.describe());
        assertTrue(r.stderr().contains(text), "stderr should contain '" + text + "': " + r.describe());
    }
}
