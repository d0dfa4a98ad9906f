package dev.swarmd.it;

import static dev.swarmd.it.Lines.assertInOrder;
import static dev.swarmd.it.MultiNode.q;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Three managers and a worker, each a swarmd process on its own loopback address, driven by the stock CLI: the
 * managers join with the command `join-token manager` prints, every manager lists the leader and the others as
 * reachable, and a service created through one manager is scaled through another and inspected through the third.
 * Then the leader is killed and the swarm goes on; two of three managers are killed and the survivor refuses
 * writes with Docker's message but answers reads, until `swarm init --force-new-cluster` makes it the single
 * manager of the same swarm, which a killed manager joins again.
 *
 * <p>Managers 127.0.0.41 (it-mm-m1, init), .42 (it-mm-m2), .43 (it-mm-m3); worker .44 (it-mm-w1).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MultiManagerTest {
    static TestNode m1;
    static TestNode m2;
    static TestNode m3;
    static TestNode w1;
    static List<TestNode> all = new ArrayList<>();
    static Engine engine;

    @BeforeAll
    static void startDaemons() {
        assumeFalse(ItConfig.reference(), "several swarmd processes on one engine: no reference mode");
        all = TestNode.startAll(List.of("mm-m1", "mm-m2", "mm-m3", "mm-w1"), List.of(41, 42, 43, 44));
        m1 = all.get(0);
        m2 = all.get(1);
        m3 = all.get(2);
        w1 = all.get(3);
        engine = Engine.connect();
        m1.swarmInit().ok();
    }

    @AfterAll
    static void stopDaemons() {
        TestNode.closeAll(all);
        if (engine != null) {
            engine.close();
        }
    }

    /** The join command `docker swarm join-token manager` prints on m1, as arguments after {@code docker swarm}. */
    static List<String> printedManagerJoin() {
        CliResult jt = m1.docker("swarm", "join-token", "manager");
        String line = assertInOrder(jt, "To add a manager to this swarm, run the following command:",
                "docker swarm join --token " + MultiNode.TOKEN + " " + q(m1.advertiseAddr()) + ":2377").group();
        List<String> words = Arrays.asList(line.trim().split("\\s+"));
        return new ArrayList<>(words.subList(2, words.size()));
    }

    @Test
    @Order(1)
    void managersJoinWithTheManagerTokenAndEveryManagerListsTheLeader() {
        List<String> join = printedManagerJoin();
        assertInOrder(m2.swarmJoin(join).ok(), "This node joined a swarm as a manager\\.");
        assertInOrder(m3.swarmJoin(join).ok(), "This node joined a swarm as a manager\\.");
        assertInOrder(w1.swarmJoin(MultiNode.printedJoinCommand(m1)).ok(), "This node joined a swarm as a worker\\.");

        for (TestNode m : List.of(m1, m2, m3)) {
            Eventually.await("every node ready in " + m.hostname() + "'s node ls, m1 leading", () -> {
                Table t = MultiNode.nodeLs(m);
                assertEquals(4, t.rows().size(), t.toString());
                Map<String, String> leader = MultiNode.row(t, m1.hostname());
                assertEquals("Leader", leader.get("MANAGER STATUS"), t.toString());
                assertEquals("Reachable", MultiNode.row(t, m2.hostname()).get("MANAGER STATUS"), t.toString());
                assertEquals("Reachable", MultiNode.row(t, m3.hostname()).get("MANAGER STATUS"), t.toString());
                assertEquals("", MultiNode.row(t, w1.hostname()).get("MANAGER STATUS"), t.toString());
                for (Map<String, String> row : t.rows()) {
                    assertEquals("Ready", row.get("STATUS"), t.toString());
                }
            });
            assertEquals("3", m.docker("info", "--format", "{{.Swarm.Managers}}").ok().stdout().trim());
            assertEquals("true", m.docker("info", "--format", "{{.Swarm.ControlAvailable}}").ok().stdout().trim());
        }
    }

    @Test
    @Order(2)
    void aServiceCreatedThroughOneManagerIsScaledThroughAnotherAndInspectedThroughTheThird() {
        m1.docker("service", "create", "-d", "--name", "mm-web", "--replicas", "2", "alpine", "sleep", "3600").ok();
        assertEquals("2", m2.docker("service", "inspect", "--format", "{{.Spec.Mode.Replicated.Replicas}}", "mm-web")
                .ok().stdout().trim(), "m2 reads what m1 wrote");
        m2.docker("service", "scale", "-d", "mm-web=4").ok();
        assertEquals("4", m3.docker("service", "inspect", "--format", "{{.Spec.Mode.Replicated.Replicas}}", "mm-web")
                .ok().stdout().trim(), "m3 reads what m2 wrote");
        Eventually.await("4 tasks of mm-web running", () ->
                assertEquals(4, MultiNode.running(engine, "mm-web", all).size()));
        for (TestNode m : List.of(m1, m2, m3)) {
            Eventually.await(m.hostname() + " lists mm-web 4/4", () -> assertInOrder(
                    m.docker("service", "ls", "--filter", "name=mm-web"), ".*mm-web\\s+replicated\\s+4/4.*"));
        }
    }

    /** The hostname of the manager m's node ls shows as Leader, if any. */
    static String leaderSeenBy(TestNode m) {
        Table t = MultiNode.nodeLs(m);
        return t.where("MANAGER STATUS", "Leader").stream().map(r -> r.get("HOSTNAME")).findFirst().orElse(null);
    }

    static TestNode byHostname(String hostname) {
        return all.stream().filter(n -> n.hostname().equals(hostname)).findFirst().orElseThrow();
    }

    static String label(TestNode m, String key) {
        return m.docker("service", "inspect", "--format", "{{index .Spec.Labels \"" + key + "\"}}", "mm-web").ok()
                .stdout().trim();
    }

    @Test
    @Order(3)
    void whenTheLeaderIsKilledAnotherLeadsAndNoTaskStops() {
        TestNode leader = byHostname(leaderSeenBy(m1));
        List<TestNode> others = List.of(m1, m2, m3).stream().filter(m -> m != leader).toList();
        List<String> runningElsewhere = MultiNode.running(engine, "mm-web",
                all.stream().filter(n -> n != leader).toList()).stream().map(c -> c.getId()).sorted().toList();

        leader.kill9();
        TestNode survivor = others.get(0);
        Eventually.await("a write through " + survivor.hostname() + " is acknowledged after the leader died", () ->
                survivor.docker("service", "update", "-d", "--label-add", "after=kill", "mm-web").ok());
        Eventually.await("a new leader among the survivors", () -> {
            String now = leaderSeenBy(survivor);
            assertEquals(true, now != null && !now.equals(leader.hostname()), "leader " + now);
        });
        assertEquals("kill", label(others.get(1), "after"), "the other survivor reads the write");
        List<String> stillRunning = MultiNode.running(engine, "mm-web", all.stream().filter(n -> n != leader).toList())
                .stream().map(c -> c.getId()).toList();
        for (String id : runningElsewhere) {
            assertEquals(true, stillRunning.contains(id), "task container " + id + " kept running");
        }

        leader.startAgain();
        Eventually.await(leader.hostname() + " back and reachable, with the write made while it was gone", () -> {
            Table t = MultiNode.nodeLs(survivor);
            assertEquals("Ready", MultiNode.row(t, leader.hostname()).get("STATUS"), t.toString());
            assertEquals("Reachable", MultiNode.row(t, leader.hostname()).get("MANAGER STATUS"), t.toString());
            assertEquals("kill", label(leader, "after"));
        });
    }

    @Test
    @Order(4)
    void withoutAQuorumWritesAreRefusedUntilASurvivorForcesANewCluster() {
        TestNode survivor = m1;
        List<TestNode> lost = List.of(m2, m3);
        lost.forEach(TestNode::kill9);

        // Alone of three, the survivor is on the minority side: the cluster's split-brain resolver downs it, and it
        // starts its membership again from its data root (a few seconds in which it answers as no manager).
        Eventually.await(survivor.hostname() + ", downed as the minority, starts its membership again", () ->
                assertTrue(survivor.daemon().logTail(400).contains("starting its membership again")));
        Eventually.await("a write without a quorum is refused with Docker's message", () -> MultiNode.assertRefused(
                survivor.cli().run("service", "update", "-d", "--label-add", "lost=quorum", "mm-web"),
                "Error response from daemon: The swarm does not have a leader. It's possible that too few managers "
                        + "are online. Make sure more than half of the managers are online."));
        Eventually.await("the survivor answers reads", () ->
                assertInOrder(survivor.docker("service", "ls").ok(), ".*mm-web\\s+replicated.*"));
        assertEquals("", label(survivor, "lost"), "the refused write changed nothing");

        assertInOrder(survivor.docker("swarm", "init", "--force-new-cluster", "--advertise-addr",
                survivor.advertiseAddr()).ok(), "Swarm initialized: current node \\(" + q(survivor.nodeId())
                + "\\) is now a manager\\.");
        survivor.docker("service", "update", "-d", "--label-add", "forced=new-cluster", "mm-web").ok();
        assertEquals("new-cluster", label(survivor, "forced"));
        assertEquals(survivor.nodeId() + " Leader", survivor.docker("node", "ls", "--filter", "role=manager",
                "--format", "{{.ID}} {{.ManagerStatus}}").stdout().lines()
                .filter(l -> l.endsWith("Leader")).findFirst().orElse(""));

        TestNode back = m2;
        back.startAgain();
        back.docker("swarm", "leave", "--force").ok();
        assertInOrder(back.swarmJoin(printedManagerJoin()).ok(), "This node joined a swarm as a manager\\.");
        Eventually.await(back.hostname() + " reads the swarm's services", () ->
                assertEquals("new-cluster", label(back, "forced")));
    }
}
