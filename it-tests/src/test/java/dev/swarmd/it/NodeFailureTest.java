package dev.swarmd.it;

import static dev.swarmd.it.MultiNode.assertNodeIdLabels;
import static dev.swarmd.it.MultiNode.assertSlotsOnce;
import static dev.swarmd.it.MultiNode.awaitCounts;
import static dev.swarmd.it.MultiNode.awaitStatus;
import static dev.swarmd.it.MultiNode.expect;
import static dev.swarmd.it.MultiNode.nodeLs;
import static dev.swarmd.it.MultiNode.printedJoinCommand;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.github.dockerjava.api.model.Container;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Failures in a three-node swarm (manager 127.0.0.35 it-nf-mgr, workers 127.0.0.36 it-nf-w1 and 127.0.0.37
 * it-nf-w2): a worker killed with kill -9 and restarted, a worker cut off by a partition (iptables) and healed, and
 * every process killed and restarted on its data root. In each case the swarm converges back to the desired replica
 * count, a returning worker's stale containers are removed, and nothing runs twice.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NodeFailureTest {
    /** Time given to a returning node to do something wrong (run a stale task beside its replacement). */
    static final Duration SETTLE = Duration.ofSeconds(5);
    /** How long a partition lasts after the manager has seen the worker Down and rescheduled its tasks. */
    static final Duration PARTITION_HOLD = Duration.ofSeconds(15);

    static TestNode mgr;
    static TestNode w1;
    static TestNode w2;
    static List<TestNode> nodes = new ArrayList<>();
    static Engine engine;

    @BeforeAll
    static void startSwarm() {
        assumeFalse(ItConfig.reference(), "several swarmd processes on one engine: no reference mode");
        for (int n : List.of(35, 36, 37)) {
            Iptables.removeLeftovers("127.0.0." + n);
        }
        nodes = TestNode.startAll(List.of("nf-mgr", "nf-w1", "nf-w2"), List.of(35, 36, 37));
        mgr = nodes.get(0);
        w1 = nodes.get(1);
        w2 = nodes.get(2);
        engine = Engine.connect();
        mgr.swarmInit().ok();
        List<String> join = printedJoinCommand(mgr);
        for (TestNode w : List.of(w1, w2)) {
            assertEquals(List.of("This node joined a swarm as a worker."), w.swarmJoin(join).ok().nonBlankLines());
        }
        for (TestNode w : List.of(w1, w2)) {
            awaitStatus(mgr, w, "Ready");
        }
    }

    @AfterEach
    void healPartitions() {
        Iptables.healAll();
    }

    @AfterAll
    static void stopSwarm() {
        Iptables.healAll();
        TestNode.closeAll(nodes);
        if (engine != null) {
            engine.close();
        }
    }

    static Set<String> ids(List<Container> list) {
        return list.stream().map(Container::getId).collect(Collectors.toSet());
    }

    static void awaitLs(String service, String replicas) {
        Eventually.await("service ls shows " + service + " " + replicas, () -> {
            CliResult ls = mgr.docker("service", "ls", "--format", "{{.Name}} {{.Replicas}}", "--filter", "name=" + service);
            assertEquals(List.of(service + " " + replicas), ls.nonBlankLines(), ls.describe());
        });
    }

    static void removeService(String name) {
        mgr.docker("service", "rm", name);
        Eventually.await("no container of " + name + " left", () -> {
            List<Container> left = MultiNode.all(engine, name, nodes);
            assertTrue(left.isEmpty(), Engine.describe(left));
        });
    }

    /**
     * The manager's view while a node is gone: {@code replicas} tasks of the service with desired state running, all
     * on the given nodes. (Not `service ls`: like Docker, it counts the lost node's tasks, last reported running, in
     * RUNNING until the node reports again, e.g. 8/6.)
     */
    static void awaitDesiredRunningOnlyOn(String service, int replicas, List<TestNode> on) {
        List<String> hosts = on.stream().map(TestNode::hostname).sorted().collect(Collectors.toList());
        Eventually.await(replicas + " tasks of " + service + " desired running, on " + hosts, () -> {
            CliResult ps = mgr.docker("service", "ps", "--filter", "desired-state=running", "--format", "{{.Node}}",
                    service);
            List<String> taskNodes = ps.nonBlankLines();
            assertEquals(replicas, taskNodes.size(), ps.describe());
            assertTrue(hosts.containsAll(taskNodes), ps.describe());
        });
    }

    /** Every node of the swarm runs (a test that failed half-way may have left one killed) and is Ready. */
    @BeforeEach
    void allNodesUp() {
        for (TestNode n : nodes) {
            if (!n.daemon().isAlive()) {
                n.startAgain();
            }
        }
        for (TestNode w : List.of(w1, w2)) {
            awaitStatus(mgr, w, "Ready");
        }
    }

    /**
     * After {@code back} returned: its stale containers (those it ran before) stop, and the service runs exactly
     * {@code replicas} containers, one per slot, over the three nodes, for a while.
     */
    static void awaitStaleRemovedAndNothingTwice(String service, int replicas, TestNode back, Set<String> stale) {
        Eventually.await("the stale containers of " + back.hostname() + " are removed or stopped", () -> {
            for (String id : stale) {
                assertFalse(engine.isRunning(id), "stale container " + id + " still runs: "
                        + MultiNode.describe(MultiNode.runningByHost(engine, service, nodes)));
            }
        });
        Eventually.await(service + " runs " + replicas + " containers, each slot once", () -> {
            List<Container> running = MultiNode.running(engine, service, nodes);
            assertEquals(replicas, running.size(), Engine.describe(running));
            assertSlotsOnce(running, replicas);
        });
        Eventually.settle(SETTLE);
        List<Container> running = MultiNode.running(engine, service, nodes);
        assertEquals(replicas, running.size(), "nothing runs twice: " + Engine.describe(running));
        assertSlotsOnce(running, replicas);
        assertNodeIdLabels(MultiNode.runningByHost(engine, service, nodes), nodes);
        awaitLs(service, replicas + "/" + replicas);
    }

    @Test
    @Order(1)
    void aKilledWorkersTasksAreRescheduledAndItsStaleContainersRemovedWhenItReturns() {
        String w2Id = w2.nodeId();
        mgr.docker(MultiNode.create("kf", "--replicas", "6"));
        Map<String, List<Container>> before = awaitCounts(engine, "kf", nodes,
                expect(mgr.hostname(), 2, w1.hostname(), 2, w2.hostname(), 2));
        Set<String> stale = ids(before.get(w2.hostname()));

        w2.kill9();
        awaitStatus(mgr, w2, "Down");
        List<TestNode> live = List.of(mgr, w1);
        Eventually.await("kf runs 6 containers again on the live nodes, each slot once", () -> {
            List<Container> running = MultiNode.running(engine, "kf", live);
            assertEquals(6, running.size(), MultiNode.describe(MultiNode.runningByHost(engine, "kf", nodes)));
            assertSlotsOnce(running, 6);
        });
        awaitDesiredRunningOnlyOn("kf", 6, live);

        w2.startAgain();
        awaitStatus(mgr, w2, "Ready");
        assertEquals(w2Id, w2.docker("info", "--format", "{{.Swarm.NodeID}}").stdout().trim(), "same node ID");
        assertEquals("active false", w2.docker("info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}")
                .stdout().trim());
        Table t = nodeLs(mgr);
        assertEquals(List.of(mgr.hostname(), w1.hostname(), w2.hostname()), t.column("HOSTNAME"),
                "the returning worker is the same node, not a new one: " + t);
        assertEquals(w2Id, MultiNode.row(t, w2.hostname()).get("ID"));
        awaitStaleRemovedAndNothingTwice("kf", 6, w2, stale);
        removeService("kf");
    }

    @Test
    @Order(2)
    void aPartitionedWorkerIsMarkedDownItsTasksRescheduledAndItComesBackAfterHealing() {
        String reason = Iptables.unavailableReason();
        assumeTrue(reason == null, "iptables is not usable here, no partition test: " + reason);

        String w1Id = w1.nodeId();
        Instant t0 = Instant.now();
        mgr.docker(MultiNode.create("pt", "--replicas", "6"));
        Map<String, List<Container>> before = awaitCounts(engine, "pt", nodes,
                expect(mgr.hostname(), 2, w1.hostname(), 2, w2.hostname(), 2));
        Set<String> stale = ids(before.get(w1.hostname()));

        try {
            Iptables.isolate(w1.advertiseAddr());
            awaitStatus(mgr, w1, "Down");
            List<TestNode> reachable = List.of(mgr, w2);
            Eventually.await("pt runs 6 containers on the nodes on the manager's side, each slot once", () -> {
                List<Container> running = MultiNode.running(engine, "pt", reachable);
                assertEquals(6, running.size(), MultiNode.describe(MultiNode.runningByHost(engine, "pt", nodes)));
                assertSlotsOnce(running, 6);
            });
            awaitDesiredRunningOnlyOn("pt", 6, reachable);
            // a long partition, not a blip: both sides' split-brain resolvers act (stable-after 5 s), the managers'
            // side downs the worker and the cut-off worker downs itself; the worker stays Down meanwhile
            Eventually.settle(PARTITION_HOLD);
            assertEquals("Down", MultiNode.row(nodeLs(mgr), w1.hostname()).get("STATUS"),
                    "the cut-off worker stays Down while the partition lasts");
            List<Container> running = MultiNode.running(engine, "pt", reachable);
            assertEquals(6, running.size(), "still 6 on the manager's side: " + Engine.describe(running));
            assertEquals("Ready", MultiNode.row(nodeLs(mgr), w2.hostname()).get("STATUS"),
                    "the other worker is not affected");
        } finally {
            Iptables.healAll();
        }

        awaitStatus(mgr, w1, "Ready");
        Table t = nodeLs(mgr);
        assertEquals(List.of(mgr.hostname(), w1.hostname(), w2.hostname()), t.column("HOSTNAME"), t.toString());
        assertEquals(w1Id, MultiNode.row(t, w1.hostname()).get("ID"), "the healed worker is the same node");
        assertEquals(w1Id, w1.docker("info", "--format", "{{.Swarm.NodeID}}").stdout().trim());
        Instant t1 = Instant.now();
        List<String> nodeEvents = mgr.docker("events", "--since", epoch(t0), "--until", epoch(t1), "--filter",
                "node=" + w1Id, "--filter", "event=update").nonBlankLines().stream()
                .map(l -> l.substring(l.indexOf(' ') + 1)).collect(Collectors.toList());
        assertTrue(nodeEvents.size() >= 2, "docker events tells the worker going down and coming back: " + nodeEvents);
        assertEquals("node update " + w1Id + " (name=it-nf-w1, state.new=down, state.old=ready)", nodeEvents.get(0));
        assertEquals("node update " + w1Id + " (name=it-nf-w1, state.new=ready, state.old=down)",
                nodeEvents.get(nodeEvents.size() - 1));
        awaitStaleRemovedAndNothingTwice("pt", 6, w1, stale);
        removeService("pt");
    }

    @Test
    @Order(3)
    void everyProcessKilledAndRestartedComesBackWithItsStateAndAdoptsItsContainers() {
        mgr.docker(MultiNode.create("rs", "--replicas", "4"));
        mgr.docker(MultiNode.create("rg", "--mode", "global"));
        awaitCounts(engine, "rg", nodes, expect(mgr.hostname(), 1, w1.hostname(), 1, w2.hostname(), 1));
        Eventually.await("rs runs 4 containers", () -> assertEquals(4, MultiNode.running(engine, "rs", nodes).size()));
        awaitLs("rs", "4/4");
        awaitLs("rg", "3/3");

        String nodeLsFormat = "{{.ID}} {{.Hostname}} {{.Status}} {{.Availability}} {{.ManagerStatus}}";
        String nodesBefore = mgr.docker("node", "ls", "--format", nodeLsFormat).stdout();
        String servicesBefore = mgr.docker("service", "inspect", "--format", "{{.Spec.Name}} {{.ID}}", "rs", "rg").stdout();
        String clusterBefore = mgr.docker("info", "--format", "{{.Swarm.Cluster.ID}}").stdout();
        Map<String, String> containersBefore = containers();
        assertEquals(7, containersBefore.size(), containersBefore.toString());
        Map<String, String> idsBefore = new TreeMap<>();
        for (TestNode n : nodes) {
            idsBefore.put(n.hostname(), n.docker("info", "--format", "{{.Swarm.NodeID}}").stdout().trim());
        }

        for (TestNode n : List.of(w1, w2, mgr)) {
            n.kill9();
        }
        for (String id : containersBefore.keySet()) {
            assertTrue(engine.isRunning(id), "containers keep running while the daemons are down: " + id);
        }
        List<CompletableFuture<Void>> starts = new ArrayList<>();
        for (TestNode n : nodes) {
            starts.add(CompletableFuture.runAsync(n::startAgain, r -> new Thread(r, "restart-" + n.hostname()).start()));
        }
        starts.forEach(CompletableFuture::join);

        Eventually.await("the manager lists the same nodes, all Ready, the manager Leader", () ->
                assertEquals(nodesBefore, mgr.docker("node", "ls", "--format", nodeLsFormat).stdout()));
        for (TestNode n : nodes) {
            assertEquals(idsBefore.get(n.hostname()), n.docker("info", "--format", "{{.Swarm.NodeID}}").stdout().trim(),
                    n.hostname() + " kept its node ID");
        }
        assertEquals(clusterBefore, mgr.docker("info", "--format", "{{.Swarm.Cluster.ID}}").stdout());
        assertEquals(servicesBefore, mgr.docker("service", "inspect", "--format", "{{.Spec.Name}} {{.ID}}", "rs", "rg")
                .stdout(), "the same services");
        awaitLs("rs", "4/4");
        awaitLs("rg", "3/3");
        Eventually.settle(SETTLE);
        assertEquals(containersBefore, containers(),
                "the same containers, adopted where they ran (StartedAt unchanged), none added");
        awaitLs("rs", "4/4");
        awaitLs("rg", "3/3");
    }

    static String epoch(Instant t) {
        return t.getEpochSecond() + "." + String.format("%09d", t.getNano());
    }

    /** container ID -> hostname, StartedAt, state and name of every container of the three nodes. */
    static Map<String, String> containers() {
        Map<String, String> m = new TreeMap<>();
        for (TestNode n : nodes) {
            for (Container c : n.allContainers()) {
                m.put(c.getId(), n.hostname() + " " + engine.startedAt(c.getId()) + " " + c.getState() + " "
                        + Engine.name(c));
            }
        }
        return m;
    }
}
