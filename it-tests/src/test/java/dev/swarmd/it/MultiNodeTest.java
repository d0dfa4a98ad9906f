package dev.swarmd.it;

import static dev.swarmd.it.Lines.assertInOrder;
import static dev.swarmd.it.MultiNode.assertNodeIdLabels;
import static dev.swarmd.it.MultiNode.assertRefused;
import static dev.swarmd.it.MultiNode.awaitCounts;
import static dev.swarmd.it.MultiNode.awaitStatus;
import static dev.swarmd.it.MultiNode.counts;
import static dev.swarmd.it.MultiNode.expect;
import static dev.swarmd.it.MultiNode.nodeLs;
import static dev.swarmd.it.MultiNode.printedJoinCommand;
import static dev.swarmd.it.MultiNode.q;
import static dev.swarmd.it.MultiNode.row;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.dockerjava.api.model.Container;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The seed notes' three-machine swarm with the stock CLI, each "machine" a swarmd on its own loopback address, all
 * sharing the engine: init on the manager, join with the command join-token prints, node ls / inspect / info,
 * manager-only calls on a worker, refused joins (malformed, rotated and foreign-CA tokens), spread and
 * constraints, global mode across a node that joins later, drain / active, leave and node rm, a removed node that
 * tries to come back, and a process holding another swarm's certificate that tries to join the cluster.
 *
 * <p>Swarm A: manager 127.0.0.31 (it-mn-mgr), workers 127.0.0.32 (it-mn-w1) and 127.0.0.33 (it-mn-w2), and
 * 127.0.0.34 (it-mn-late) which is refused first and joins later. Swarm B (another CA): manager 127.0.0.38
 * (it-mn-bmgr), worker 127.0.0.39 (it-mn-bw).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MultiNodeTest {
    /** Time given to something that must not happen (a refused node showing up, a task placed on it). */
    static final Duration WINDOW = Duration.ofSeconds(12);

    static TestNode mgr;
    static TestNode w1;
    static TestNode w2;
    static TestNode late;
    static TestNode bMgr;
    static TestNode bWorker;
    static List<TestNode> all = new ArrayList<>();
    static Engine engine;
    static CliResult init;

    @BeforeAll
    static void startDaemons() {
        assumeFalse(ItConfig.reference(), "several swarmd processes on one engine: no reference mode");
        all = TestNode.startAll(List.of("mn-mgr", "mn-w1", "mn-w2", "mn-late", "mn-bmgr", "mn-bw"),
                List.of(31, 32, 33, 34, 38, 39));
        mgr = all.get(0);
        w1 = all.get(1);
        w2 = all.get(2);
        late = all.get(3);
        bMgr = all.get(4);
        bWorker = all.get(5);
        engine = Engine.connect();
        init = mgr.swarmInit();
        bMgr.swarmInit().ok();
    }

    @AfterAll
    static void stopDaemons() {
        TestNode.closeAll(all);
        if (engine != null) {
            engine.close();
        }
    }

    static List<TestNode> swarmA() {
        return List.of(mgr, w1, w2, late);
    }

    static List<String> nodeIds() {
        return mgr.docker("node", "ls", "-q").nonBlankLines().stream().sorted().collect(Collectors.toList());
    }

    static void removeService(String name, List<TestNode> nodes) {
        mgr.docker("service", "rm", name);
        Eventually.await("no container of " + name + " left", () -> {
            List<Container> left = MultiNode.all(engine, name, nodes);
            assertTrue(left.isEmpty(), Engine.describe(left));
        });
    }

    @Test
    @Order(1)
    void initJoinTwoWorkersWithThePrintedCommandAndListTheNodes() throws Exception {
        init.ok();
        assertInOrder(init, "Swarm initialized: current node \\(" + q(mgr.nodeId()) + "\\) is now a manager\\.",
                "To add a worker to this swarm, run the following command:",
                "docker swarm join --token " + MultiNode.TOKEN + " " + q(mgr.advertiseAddr()) + ":2377");

        List<String> join = printedJoinCommand(mgr);
        for (TestNode w : List.of(w1, w2)) {
            CliResult r = w.swarmJoin(join);
            r.ok();
            assertEquals(List.of("This node joined a swarm as a worker."), r.nonBlankLines(), r.describe());
            assertTrue(w.nodeId().matches(Ids.ID), "worker node ID from docker info: " + w.nodeId());
        }
        assertNotEquals(w1.nodeId(), w2.nodeId());

        Eventually.await("node ls on the manager shows 3 nodes, all Ready and Active", () -> {
            CliResult ls = mgr.docker("node", "ls");
            Table t = Table.parse(ls, MultiNode.NODE_LS);
            assertEquals(List.of(mgr.hostname(), w1.hostname(), w2.hostname()), t.column("HOSTNAME"),
                    "3 rows, sorted by hostname: " + ls.describe());
            assertEquals(List.of("Ready", "Ready", "Ready"), t.column("STATUS"), ls.describe());
            assertEquals(List.of("Active", "Active", "Active"), t.column("AVAILABILITY"), ls.describe());
            assertEquals(mgr.nodeId() + " *", row(t, mgr.hostname()).get("ID"), ls.describe());
            assertEquals("Leader", row(t, mgr.hostname()).get("MANAGER STATUS"), ls.describe());
            for (TestNode w : List.of(w1, w2)) {
                assertEquals(w.nodeId(), row(t, w.hostname()).get("ID"), ls.describe());
                assertEquals("", row(t, w.hostname()).get("MANAGER STATUS"), "workers have no manager status: "
                        + ls.describe());
            }
            for (String v : t.column("ENGINE VERSION")) {
                assertFalse(v.isEmpty(), ls.describe());
            }
        });
        assertEquals(List.of(mgr.nodeId(), w1.nodeId(), w2.nodeId()).stream().sorted().collect(Collectors.toList()),
                nodeIds());
        CliResult workers = mgr.docker("node", "ls", "--filter", "role=worker", "--format", "{{.Hostname}}");
        assertEquals(List.of(w1.hostname(), w2.hostname()), workers.nonBlankLines(), workers.describe());

        for (TestNode n : List.of(mgr, w1, w2)) {
            assertOwnerOnlyKeysAndCertificates(n);
        }

        CliResult again = w1.cli().run(List.of(List.of("swarm"), join).stream().flatMap(List::stream).toArray(String[]::new));
        assertRefused(again, "This node is already part of a swarm. Use \"docker swarm leave\" to leave this swarm "
                + "and join another one.");
    }

    /** The node's keys and certificates (data-root/swarm/certificates) are readable by their owner only. */
    static void assertOwnerOnlyKeysAndCertificates(TestNode n) throws java.io.IOException {
        Path certs = n.daemon().dataRoot().resolve("swarm").resolve("certificates");
        List<Path> files;
        try (java.util.stream.Stream<Path> list = Files.list(certs)) {
            files = list.filter(Files::isRegularFile).collect(Collectors.toList());
        }
        assertTrue(files.stream().anyMatch(f -> f.getFileName().toString().endsWith(".key")), "a key in " + files);
        for (Path f : files) {
            java.util.Set<java.nio.file.attribute.PosixFilePermission> perms = Files.getPosixFilePermissions(f);
            assertTrue(perms.stream().allMatch(p -> p.name().startsWith("OWNER_")),
                    n.hostname() + ": " + f + " must be owner-only, is " + java.nio.file.attribute.PosixFilePermissions.toString(perms));
        }
    }

    @Test
    @Order(2)
    void nodeInspectPrettyOfAWorkerAndOfTheManager() {
        for (String ref : List.of(w1.hostname(), w1.nodeId())) {
            CliResult r = mgr.docker("node", "inspect", "--pretty", ref);
            assertInOrder(r, "ID:\\s+" + q(w1.nodeId()), "Hostname:\\s+" + q(w1.hostname()), "Joined at:\\s+\\S.*",
                    "Status:", "State:\\s+Ready", "Availability:\\s+Active", "Address:\\s+" + q(w1.advertiseAddr()),
                    "Platform:", "Operating System:\\s+linux", "Architecture:\\s+\\S+", "Resources:", "CPUs:\\s+\\d+",
                    "Memory:\\s+\\S+", "Engine Version:\\s+\\S+", "TLS Info:", "TrustRoot:",
                    "-----BEGIN CERTIFICATE-----");
            assertFalse(r.stdout().contains("Manager Status:"), "a worker has no manager status: " + r.describe());
        }
        CliResult m = mgr.docker("node", "inspect", "--pretty", "self");
        assertInOrder(m, "ID:\\s+" + q(mgr.nodeId()), "Hostname:\\s+" + q(mgr.hostname()), "Status:",
                "State:\\s+Ready", "Availability:\\s+Active", "Address:\\s+" + q(mgr.advertiseAddr()),
                "Manager Status:", "Address:\\s+" + q(mgr.advertiseAddr()) + ":2377", "Raft Status:\\s+Reachable",
                "Leader:\\s+Yes");
        assertEquals("worker", mgr.docker("node", "inspect", "--format", "{{.Spec.Role}}", w1.hostname()).stdout().trim());
        assertEquals("ready " + w1.advertiseAddr(), mgr.docker("node", "inspect", "--format",
                "{{.Status.State}} {{.Status.Addr}}", w1.hostname()).stdout().trim());
    }

    /** Every node's certificate is issued by the swarm's CA: node inspect shows that CA and its issuer fields. */
    @Test
    @Order(3)
    void nodeTlsInfoNamesTheSwarmCa() {
        String trustRoot = mgr.docker("info", "--format", "{{.Swarm.Cluster.TLSInfo.TrustRoot}}").stdout().trim();
        assertTrue(trustRoot.startsWith("-----BEGIN CERTIFICATE-----"), trustRoot);
        String subject = mgr.docker("info", "--format", "{{.Swarm.Cluster.TLSInfo.CertIssuerSubject}}").stdout().trim();
        String key = mgr.docker("info", "--format", "{{.Swarm.Cluster.TLSInfo.CertIssuerPublicKey}}").stdout().trim();
        for (TestNode n : List.of(mgr, w1, w2)) {
            String prefix = "node " + n.hostname() + ": ";
            assertEquals(trustRoot, mgr.docker("node", "inspect", "--format", "{{.Description.TLSInfo.TrustRoot}}",
                    n.hostname()).stdout().trim(), prefix + "TrustRoot is the swarm's CA");
            String s = mgr.docker("node", "inspect", "--format", "{{.Description.TLSInfo.CertIssuerSubject}}",
                    n.hostname()).stdout().trim();
            String k = mgr.docker("node", "inspect", "--format", "{{.Description.TLSInfo.CertIssuerPublicKey}}",
                    n.hostname()).stdout().trim();
            // Docker shows the issuer's subject and public key (base64 DER) under "TLS Info"
            assertFalse(s.isEmpty() || s.equals("[]"), prefix + "CertIssuerSubject is empty: '" + s + "'");
            assertFalse(k.isEmpty() || k.equals("[]"), prefix + "CertIssuerPublicKey is empty: '" + k + "'");
            assertEquals(subject, s, prefix + "issuer subject = the swarm's (docker info)");
            assertEquals(key, k, prefix + "issuer public key = the swarm's (docker info)");
        }
    }

    @Test
    @Order(4)
    void aWorkerSaysItIsAWorkerAndRefusesManagerOnlyCalls() {
        CliResult info = w1.docker("info");
        assertInOrder(info, "Swarm: active", "NodeID: " + q(w1.nodeId()), "Is Manager: false",
                "Node Address: " + q(w1.advertiseAddr()), "Manager Addresses:", q(mgr.advertiseAddr()) + ":2377");
        assertFalse(info.stdout().contains("ClusterID:"), "a worker shows no cluster details: " + info.describe());
        assertEquals("active false", w1.docker("info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}")
                .stdout().trim());

        assertRefused(w1.cli().run("node", "ls"), MultiNode.WORKER_503);
        assertRefused(w1.cli().run("service", "ls"), MultiNode.WORKER_503);
        assertRefused(w2.cli().run("service", "create", "-d", "--name", "fromworker", "alpine", "sleep", "3600"),
                MultiNode.WORKER_503);
        assertRefused(w2.cli().run("node", "update", "--availability", "drain", w2.hostname()), MultiNode.WORKER_503);
        assertRefused(w2.cli().run("swarm", "join-token", "worker"), MultiNode.WORKER_503);
        CliResult svc = mgr.docker("service", "ls", "-q");
        assertEquals(List.of(), svc.nonBlankLines(), "the refused create created nothing: " + svc.describe());
    }

    @Test
    @Order(5)
    void joinsWithABadTokenAreRefusedAndLeaveNothingBehind() {
        List<String> before = nodeIds();
        String worker = mgr.docker("swarm", "join-token", "-q", "worker").stdout().trim();
        String otherCa = bMgr.docker("swarm", "join-token", "-q", "worker").stdout().trim();
        String remote = mgr.advertiseAddr() + ":2377";

        assertRefused(late.cli().run("swarm", "join", "--token", "SWMTKN-1-notavalidtoken", remote), "invalid join token");
        assertNothingLeftBehind(before);

        // a well-formed token of another swarm: its CA digest is not the manager's CA
        String expected = otherCa.split("-")[2];
        assertRefused(late.cli().run("swarm", "join", "--token", otherCa, remote),
                "remote CA does not match fingerprint. Expected: " + expected);
        assertNothingLeftBehind(before);

        CliResult rotate = mgr.docker("swarm", "join-token", "--rotate", "worker");
        assertInOrder(rotate, "Successfully rotated worker join token\\.");
        String rotated = mgr.docker("swarm", "join-token", "-q", "worker").stdout().trim();
        assertNotEquals(worker, rotated);
        assertRefused(late.cli().run("swarm", "join", "--token", worker, remote),
                "rpc error: code = InvalidArgument desc = A valid join token is necessary to join this cluster");
        assertNothingLeftBehind(before);

        // the nodes that joined with the old token stay in
        Table t = nodeLs(mgr);
        for (TestNode w : List.of(w1, w2)) {
            assertEquals("Ready", row(t, w.hostname()).get("STATUS"), t.toString());
            assertEquals("active", w.localNodeState());
        }
    }

    void assertNothingLeftBehind(List<String> nodesBefore) {
        assertEquals("inactive", late.localNodeState(), "a refused join leaves the node outside any swarm");
        assertFalse(MultiNode.hasSwarmState(late), "no swarm state written: " + MultiNode.stateFile(late));
        assertEquals(nodesBefore, nodeIds(), "the manager's node list is unchanged");
        CliResult ls = late.cli().run("node", "ls");
        assertRefused(ls, "This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\" to "
                + "connect this node to swarm and try again.");
    }

    @Test
    @Order(6)
    void tasksSpreadOverTheNodesAndFollowConstraints() {
        List<TestNode> three = List.of(mgr, w1, w2);
        mgr.docker(MultiNode.create("spread", "--replicas", "6"));
        Map<String, List<Container>> spread = awaitCounts(engine, "spread", three,
                expect(mgr.hostname(), 2, w1.hostname(), 2, w2.hostname(), 2));
        assertNodeIdLabels(spread, three);
        MultiNode.assertSlotsOnce(MultiNode.running(engine, "spread", three), 6);
        Eventually.await("service ps spread shows 2 running tasks on each node", () -> {
            CliResult ps = mgr.docker("service", "ps", "--filter", "desired-state=running", "spread");
            Table t = Table.parse(ps, MultiNode.SERVICE_PS);
            Map<String, Long> byNode = t.column("NODE").stream()
                    .collect(Collectors.groupingBy(s -> s, TreeMap::new, Collectors.counting()));
            assertEquals(Map.of(mgr.hostname(), 2L, w1.hostname(), 2L, w2.hostname(), 2L), byNode, ps.describe());
        });

        mgr.docker(MultiNode.create("pinned", "--replicas", "3", "--constraint", "node.hostname==" + w1.hostname()));
        assertNodeIdLabels(awaitCounts(engine, "pinned", three,
                expect(mgr.hostname(), 0, w1.hostname(), 3, w2.hostname(), 0)), three);

        mgr.docker(MultiNode.create("workersonly", "--replicas", "4", "--constraint", "node.role!=manager"));
        assertNodeIdLabels(awaitCounts(engine, "workersonly", three,
                expect(mgr.hostname(), 0, w1.hostname(), 2, w2.hostname(), 2)), three);

        mgr.docker(MultiNode.create("byid", "--replicas", "2", "--constraint", "node.id==" + w2.nodeId()));
        assertNodeIdLabels(awaitCounts(engine, "byid", three,
                expect(mgr.hostname(), 0, w1.hostname(), 0, w2.hostname(), 2)), three);

        Eventually.settle(Duration.ofSeconds(2));
        assertEquals(expect(mgr.hostname(), 2, w1.hostname(), 2, w2.hostname(), 2), counts(engine, "spread", three));
        assertEquals(expect(mgr.hostname(), 0, w1.hostname(), 3, w2.hostname(), 0), counts(engine, "pinned", three));
        for (String s : List.of("spread", "pinned", "workersonly", "byid")) {
            removeService(s, swarmA());
        }
    }

    @Test
    @Order(7)
    void globalServiceRunsOnANodeThatJoinsLater() {
        List<TestNode> four = swarmA();
        mgr.docker(MultiNode.create("glob", "--mode", "global"));
        awaitCounts(engine, "glob", four, expect(mgr.hostname(), 1, w1.hostname(), 1, w2.hostname(), 1, late.hostname(), 0));

        // the join command join-token prints now carries the rotated token
        CliResult joined = late.swarmJoin(printedJoinCommand(mgr));
        joined.ok();
        assertEquals(List.of("This node joined a swarm as a worker."), joined.nonBlankLines(), joined.describe());
        awaitStatus(mgr, late, "Ready");
        assertEquals(4, nodeLs(mgr).size());

        Map<String, List<Container>> byHost = awaitCounts(engine, "glob", four,
                expect(mgr.hostname(), 1, w1.hostname(), 1, w2.hostname(), 1, late.hostname(), 1));
        assertNodeIdLabels(byHost, four);
        Eventually.await("service ls shows glob global 4/4", () -> assertTrue(mgr.docker("service", "ls")
                .hasLine("[0-9a-z]{12}\\s+glob\\s+global\\s+4/4\\s+alpine:latest\\s*")));
    }

    @Test
    @Order(8)
    void drainMovesTheNodesTasksAndActiveMakesItEligibleAgain() {
        List<TestNode> four = swarmA();
        mgr.docker(MultiNode.create("dr", "--replicas", "4"));
        Map<String, List<Container>> before = awaitCounts(engine, "dr", four,
                expect(mgr.hostname(), 1, w1.hostname(), 1, w2.hostname(), 1, late.hostname(), 1));
        String movedTask = before.get(w1.hostname()).get(0).getLabels().get(Engine.TASK_ID);

        assertEquals(List.of(w1.hostname()),
                mgr.docker("node", "update", "--availability", "drain", w1.hostname()).nonBlankLines());
        Table t = nodeLs(mgr);
        assertEquals("Ready", row(t, w1.hostname()).get("STATUS"), t.toString());
        assertEquals("Drain", row(t, w1.hostname()).get("AVAILABILITY"), t.toString());
        assertInOrder(mgr.docker("node", "inspect", "--pretty", w1.hostname()), "State:\\s+Ready", "Availability:\\s+Drain");

        Map<String, List<Container>> drained = Eventually.awaitValue("dr's task on the drained node moves elsewhere", () -> {
            Map<String, List<Container>> byHost = MultiNode.runningByHost(engine, "dr", four);
            assertEquals(0, byHost.get(w1.hostname()).size(), MultiNode.describe(byHost));
            assertEquals(4, byHost.values().stream().mapToInt(List::size).sum(), MultiNode.describe(byHost));
            return byHost;
        });
        assertNodeIdLabels(drained, four);
        MultiNode.assertSlotsOnce(MultiNode.running(engine, "dr", four), 4);
        assertTrue(MultiNode.running(engine, "dr", four).stream()
                .noneMatch(c -> movedTask.equals(c.getLabels().get(Engine.TASK_ID))), "a new task replaces the moved one");
        Eventually.await("the global task on the drained node is stopped", () ->
                assertEquals(0, counts(engine, "glob", four).get(w1.hostname())));

        assertEquals(List.of(w1.hostname()),
                mgr.docker("node", "update", "--availability", "active", w1.hostname()).nonBlankLines());
        assertEquals("Active", row(nodeLs(mgr), w1.hostname()).get("AVAILABILITY"));
        Eventually.await("the global service runs on the re-activated node again", () ->
                assertEquals(1, counts(engine, "glob", four).get(w1.hostname())));
        mgr.docker("service", "scale", "-d", "dr=8");
        assertNodeIdLabels(awaitCounts(engine, "dr", four,
                expect(mgr.hostname(), 2, w1.hostname(), 2, w2.hostname(), 2, late.hostname(), 2)), four);
        removeService("dr", four);
    }

    @Test
    @Order(9)
    void aWorkerLeavesIsShownDownAndIsRemoved() {
        CliResult refused = mgr.cli().run("node", "rm", w2.hostname());
        assertRefused(refused, "node " + w2.nodeId() + " is not down and can't be removed");
        assertEquals("Ready", row(nodeLs(mgr), w2.hostname()).get("STATUS"));

        CliResult leave = w2.docker("swarm", "leave");
        assertEquals(List.of("Node left the swarm."), leave.nonBlankLines(), leave.describe());
        assertEquals("inactive", w2.localNodeState());
        assertFalse(MultiNode.hasSwarmState(w2), "a node that left keeps no swarm state");
        Eventually.await("the node that left runs nothing", () -> {
            List<Container> left = w2.allContainers();
            assertTrue(left.isEmpty(), Engine.describe(left));
        });
        awaitStatus(mgr, w2, "Down");
        assertEquals(4, nodeLs(mgr).size(), "a node that left stays listed (Down) until node rm");

        assertEquals(List.of(w2.hostname()), mgr.docker("node", "rm", w2.hostname()).nonBlankLines());
        Table t = nodeLs(mgr);
        assertEquals(List.of(late.hostname(), mgr.hostname(), w1.hostname()), t.column("HOSTNAME"), t.toString());
        assertFalse(nodeIds().contains(w2.nodeId()));
        CliResult gone = mgr.cli().run("node", "inspect", w2.nodeId());
        assertEquals(1, gone.exitCode(), gone.describe());
        assertTrue(gone.stderr().contains(w2.nodeId()) && (gone.stderr().contains("not found")
                || gone.stderr().contains("No such node")), gone.describe());
        Eventually.await("service ls shows glob global 3/3", () -> assertTrue(mgr.docker("service", "ls")
                .hasLine("[0-9a-z]{12}\\s+glob\\s+global\\s+3/3\\s+alpine:latest\\s*")));
    }

    @Test
    @Order(10)
    void aRemovedNodeCannotComeBackWithItsCertificate() {
        String lateId = late.nodeId();
        late.kill9();
        awaitStatus(mgr, late, "Down");
        assertEquals(List.of(lateId), mgr.docker("node", "rm", lateId).nonBlankLines());
        assertFalse(nodeIds().contains(lateId));
        Eventually.await("service ls shows glob global 2/2", () -> assertTrue(mgr.docker("service", "ls")
                .hasLine("[0-9a-z]{12}\\s+glob\\s+global\\s+2/2\\s+alpine:latest\\s*")));

        late.startAgain();
        assertEquals(lateId, late.docker("info", "--format", "{{.Swarm.NodeID}}").stdout().trim(),
                "the node resumed with its saved identity");
        long end = System.nanoTime() + WINDOW.toNanos();
        while (System.nanoTime() < end) {
            CliResult ls = mgr.docker("node", "ls");
            assertFalse(ls.stdout().contains(lateId) || ls.stdout().contains(late.hostname()),
                    "a removed node must not come back with its old certificate: " + ls.describe());
            CliResult ps = mgr.docker("service", "ps", "--filter", "desired-state=running", "--format", "{{.Node}}", "glob");
            assertFalse(ps.stdout().contains(late.hostname()) || ps.stdout().contains(lateId),
                    "no task for the removed node: " + ps.describe());
            Eventually.settle(Duration.ofSeconds(1));
        }
        System.err.println("[it-tests] removed node after restart: docker info says "
                + late.cli().run("info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.Error}}").stdout().trim());
    }

    /** Swarm A's certificate file names (dev.swarmd.swarm.SwarmCa): the trust root a node checks its peers with. */
    static final String CA_CERT = "swarm-root-ca.crt";

    /** For a while: B's worker never shows up in A's node list, and nothing runs for it. */
    static void neverAdmitted(String bId, String how) {
        long end = System.nanoTime() + WINDOW.toNanos();
        while (System.nanoTime() < end) {
            CliResult ls = mgr.docker("node", "ls");
            assertFalse(ls.stdout().contains(bId) || ls.stdout().contains(bWorker.hostname()),
                    "a node " + how + " got into A's node list: " + ls.describe());
            List<Container> its = bWorker.allContainers();
            assertTrue(its.isEmpty(), "nothing runs for the foreign node (" + how + "): " + Engine.describe(its));
            Eventually.settle(Duration.ofSeconds(1));
        }
    }

    /**
     * A process holding a certificate of another swarm's CA (swarm B's worker), pointed at swarm A's manager by its
     * saved state, must not get into A's cluster: never listed by A, never given a task by A.
     */
    @Test
    @Order(11)
    void aNodeWithAnotherSwarmsCertificateIsRefusedByTheCluster() throws Exception {
        CliResult joined = bWorker.swarmJoin(printedJoinCommand(bMgr));
        joined.ok();
        assertEquals(List.of("This node joined a swarm as a worker."), joined.nonBlankLines());
        awaitStatus(bMgr, bWorker, "Ready");
        String bId = bWorker.nodeId();
        String aCluster = mgr.docker("info", "--format", "{{.Swarm.Cluster.ID}}").stdout().trim();
        String bCluster = bMgr.docker("info", "--format", "{{.Swarm.Cluster.ID}}").stdout().trim();
        assertNotEquals(aCluster, bCluster, "two separate swarms");
        List<String> aNodes = nodeIds();

        bWorker.kill9();
        bMgr.kill9();
        Path state = MultiNode.stateFile(bWorker);
        ObjectMapper json = new ObjectMapper();
        ObjectNode s = (ObjectNode) json.readTree(state.toFile());
        assertTrue(s.has("seeds"), "state.json has seeds: " + s);
        String aSeed = "pekko://swarm@" + mgr.advertiseAddr() + ":" + Iptables.CLUSTER_PORT;
        s.putArray("seeds").add(aSeed);
        Files.writeString(state, json.writeValueAsString(s));
        bWorker.startAgain();
        assertEquals(bId, bWorker.docker("info", "--format", "{{.Swarm.NodeID}}").stdout().trim(),
                "B's worker resumed with its saved identity (and now A's manager as its seed)");

        neverAdmitted(bId, "with B's certificate, and B's CA as its trust root");

        // the same process now also trusts A's CA (so its own side of the handshake cannot be what stops it): A's
        // cluster must still refuse its certificate, signed by B's CA
        bWorker.kill9();
        Path certs = bWorker.daemon().dataRoot().resolve("swarm").resolve("certificates");
        Path aCa = mgr.daemon().dataRoot().resolve("swarm").resolve("certificates").resolve(CA_CERT);
        assertTrue(Files.exists(certs.resolve(CA_CERT)) && Files.exists(aCa), "CA files: " + certs + ", " + aCa);
        Files.copy(aCa, certs.resolve(CA_CERT), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        bWorker.startAgain();
        assertEquals(bId, bWorker.docker("info", "--format", "{{.Swarm.NodeID}}").stdout().trim());
        neverAdmitted(bId, "with B's certificate, and A's CA as its trust root");

        assertEquals(aNodes, nodeIds(), "A's node list is unchanged");
        Eventually.await("A still runs glob on its own 2 nodes", () -> assertTrue(mgr.docker("service", "ls")
                .hasLine("[0-9a-z]{12}\\s+glob\\s+global\\s+2/2\\s+alpine:latest\\s*")));
        System.err.println("[it-tests] foreign node: docker info says " + bWorker.cli()
                .run("info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.Error}}").stdout().trim());
    }
    /**
     * The cluster port itself (mutual TLS): a bare TLS client that trusts A's CA completes the handshake with A's
     * manager only when it presents a certificate of A's CA; with swarm B's node certificate, or with none, A's
     * manager refuses it, so such a process cannot deliver a single message to the cluster.
     */
    @Test
    @Order(12)
    void theClusterPortAcceptsOnlyCertificatesOfTheSwarmsCa() {
        Path aCa = TlsProbe.certDir(mgr.daemon().dataRoot()).resolve(CA_CERT);
        Path own = TlsProbe.certDir(w1.daemon().dataRoot());
        Path foreign = TlsProbe.certDir(bMgr.daemon().dataRoot());
        String host = mgr.advertiseAddr();
        int port = Iptables.CLUSTER_PORT;

        TlsProbe.Outcome control = TlsProbe.probe(host, port, aCa, own.resolve("swarm-node.crt"), own.resolve("swarm-node.key"));
        assertTrue(control.accepted(), "control: A's manager accepts a certificate of A's CA (w1's): " + control.detail());

        TlsProbe.Outcome other = TlsProbe.probe(host, port, aCa, foreign.resolve("swarm-node.crt"),
                foreign.resolve("swarm-node.key"));
        assertTrue(other.refused(), "A's manager must refuse a certificate of swarm B's CA: " + other.detail());

        TlsProbe.Outcome none = TlsProbe.probe(host, port, aCa, null, null);
        assertTrue(none.refused(), "A's manager must refuse a client without a certificate: " + none.detail());
        System.err.println("[it-tests] TLS probes of " + host + ":" + port + ": own " + control.detail() + "; other CA "
                + other.detail() + "; none " + none.detail());
    }
}
