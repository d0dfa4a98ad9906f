package dev.swarmd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.github.dockerjava.api.model.Container;
import java.time.Duration;
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
 * kill -9 at any moment, restart on the same data root: everything comes back (same IDs, same Version.Index),
 * running containers are adopted (not restarted, not duplicated), and containers that vanished or died while the
 * daemon was down are replaced.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DurabilityTest {
    static final int N = 14;
    /** Time given to a restarted daemon to do something wrong (duplicate or restart containers) before we look. */
    static final Duration SETTLE = Duration.ofSeconds(5);
    static TestNode node;

    @BeforeAll
    static void startDaemon() {
        assumeFalse(ItConfig.reference(), "kill -9 of the daemon needs swarmd");
        node = TestNode.start("durable", N);
        node.swarmInit().ok();
    }

    @AfterAll
    static void stopDaemon() {
        if (node != null) {
            node.close();
        }
    }

    static String versions(String... services) {
        String[] args = new String[services.length + 4];
        args[0] = "service";
        args[1] = "inspect";
        args[2] = "--format";
        args[3] = "{{.Spec.Name}} {{.ID}} {{.Version.Index}} {{.Spec.Mode.Replicated.Replicas}}";
        System.arraycopy(services, 0, args, 4, services.length);
        return node.docker(args).stdout().trim();
    }

    static List<String> taskIds(String service) {
        return node.docker("service", "ps", "-q", "--no-trunc", service).nonBlankLines().stream().sorted()
                .collect(Collectors.toList());
    }

    /** container ID -> StartedAt of every container of this node on the engine. */
    static Map<String, String> containers() {
        Map<String, String> m = new TreeMap<>();
        for (Container c : node.allContainers()) {
            m.put(c.getId(), node.engine().startedAt(c.getId()) + " " + c.getState() + " " + Engine.name(c));
        }
        return m;
    }

    static void awaitLs(String regex) {
        Eventually.await("service ls has a row /" + regex + "/", () -> {
            CliResult ls = node.docker("service", "ls");
            assertTrue(ls.hasLine(regex), ls.describe());
        });
    }

    static void restart() {
        node.kill9();
        node.startAgain();
    }

    @Test
    @Order(1)
    void restartAfterKill9KeepsStateAndAdoptsRunningContainers() {
        node.docker("service", "create", "-d", "--replicas", "3", "--name", "dur", "alpine", "sleep", "3600");
        node.docker("service", "create", "-d", "--name", "solo", "alpine", "sleep", "3600");
        node.awaitRunning("dur", 3);
        node.awaitRunning("solo", 1);
        awaitLs("[0-9a-z]{12}\\s+dur\\s+replicated\\s+3/3\\s+alpine:latest\\s*");
        awaitLs("[0-9a-z]{12}\\s+solo\\s+replicated\\s+1/1\\s+alpine:latest\\s*");

        String versions = versions("dur", "solo");
        String nodeLs = node.docker("node", "ls", "--format", "{{.ID}} {{.Hostname}} {{.Status}} {{.ManagerStatus}}").stdout();
        String cluster = node.docker("info", "--format", "{{.Swarm.NodeID}} {{.Swarm.Cluster.ID}}").stdout();
        String token = node.docker("swarm", "join-token", "-q", "worker").stdout();
        List<String> durTasks = taskIds("dur");
        List<String> soloTasks = taskIds("solo");
        Map<String, String> containers = containers();
        assertEquals(4, containers.size(), containers.toString());

        node.kill9();
        for (String id : containers.keySet()) {
            assertTrue(node.engine().isRunning(id), "containers keep running while the daemon is down: " + id);
        }
        node.startAgain();

        awaitLs("[0-9a-z]{12}\\s+dur\\s+replicated\\s+3/3\\s+alpine:latest\\s*");
        awaitLs("[0-9a-z]{12}\\s+solo\\s+replicated\\s+1/1\\s+alpine:latest\\s*");
        Eventually.settle(SETTLE);

        assertEquals(versions, versions("dur", "solo"), "same service IDs and Version.Index after restart");
        Eventually.await("the node is back, Ready and Leader, with the same ID", () -> assertEquals(nodeLs,
                node.docker("node", "ls", "--format", "{{.ID}} {{.Hostname}} {{.Status}} {{.ManagerStatus}}").stdout()));
        assertEquals(cluster, node.docker("info", "--format", "{{.Swarm.NodeID}} {{.Swarm.Cluster.ID}}").stdout());
        assertEquals(token, node.docker("swarm", "join-token", "-q", "worker").stdout(), "same join token");
        assertEquals(durTasks, taskIds("dur"), "same tasks, none added");
        assertEquals(soloTasks, taskIds("solo"), "same tasks, none added");
        assertEquals(containers, containers(), "the same containers, adopted (StartedAt unchanged), none added");

        CliResult ps = node.docker("service", "ps", "dur");
        Table t = Table.parse(ps, "ID", "NAME", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR", "PORTS");
        assertEquals(List.of("dur.1", "dur.2", "dur.3"), t.column("NAME"), ps.describe());
        for (Map<String, String> row : t.rows()) {
            assertTrue(row.get("CURRENT STATE").startsWith("Running "), ps.describe());
        }
    }

    @Test
    @Order(2)
    void containerRemovedWhileTheDaemonIsDownIsReplaced() {
        String versions = versions("dur", "solo");
        Map<Integer, Container> bySlot = node.awaitRunning("dur", 3).stream()
                .collect(Collectors.toMap(Engine::slot, c -> c));
        String soloContainer = node.awaitRunning("solo", 1).get(0).getId();
        Container victim = bySlot.get(2);

        node.kill9();
        node.engine().removeForce(victim.getId());
        node.startAgain();

        Eventually.await("dur slot 2 runs a new container, slots 1 and 3 keep theirs", () -> {
            List<Container> running = node.running("dur");
            assertEquals(List.of(1, 2, 3), TestNode.slots(running), Engine.describe(running));
            for (Container c : running) {
                int slot = Engine.slot(c);
                if (slot == 2) {
                    assertNotEquals(victim.getId(), c.getId());
                    assertNotEquals(victim.getLabels().get(Engine.TASK_ID), c.getLabels().get(Engine.TASK_ID), "a new task");
                } else {
                    assertEquals(bySlot.get(slot).getId(), c.getId(), "slot " + slot + " adopted");
                }
            }
        });
        Eventually.settle(SETTLE);
        List<Container> all = node.allContainers("dur");
        assertEquals(3, all.size(), "exactly 3 containers of dur, all running: " + Engine.describe(all));
        assertTrue(all.stream().allMatch(c -> "running".equals(c.getState())), Engine.describe(all));
        assertEquals(List.of(soloContainer), node.allContainers("solo").stream().map(Container::getId)
                .collect(Collectors.toList()), "solo untouched");
        assertEquals(versions, versions("dur", "solo"), "replacing a task does not change the service");
        Eventually.await("service ps dur shows the replaced task in slot 2", () -> {
            CliResult ps = node.docker("service", "ps", "--no-trunc", "dur");
            Table t = Table.parse(ps, "ID", "NAME", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR", "PORTS");
            assertEquals(List.of("dur.1", "dur.2", "\\_ dur.2", "dur.3"), t.column("NAME"), ps.describe());
            assertEquals(victim.getLabels().get(Engine.TASK_ID), t.rows().get(2).get("ID"), ps.describe());
            assertEquals("Shutdown", t.rows().get(2).get("DESIRED STATE"), ps.describe());
        });
        awaitLs("[0-9a-z]{12}\\s+dur\\s+replicated\\s+3/3\\s+alpine:latest\\s*");
    }

    @Test
    @Order(3)
    void containerThatDiedWhileTheDaemonIsDownIsReplaced() {
        Container old = node.awaitRunning("solo", 1).get(0);

        node.kill9();
        node.engine().kill(old.getId());
        node.startAgain();

        Container now = Eventually.awaitValue("solo runs a new container", () -> {
            List<Container> running = node.running("solo");
            assertEquals(1, running.size(), Engine.describe(running));
            assertNotEquals(old.getId(), running.get(0).getId());
            return running.get(0);
        });
        assertEquals(1, Engine.slot(now));
        assertFalse(node.engine().isRunning(old.getId()), "the dead container is not restarted");
        Eventually.await("service ps solo shows the failed task under the new one", () -> {
            CliResult ps = node.docker("service", "ps", "--no-trunc", "solo");
            Table t = Table.parse(ps, "ID", "NAME", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR", "PORTS");
            assertEquals(List.of("solo.1", "\\_ solo.1"), t.column("NAME"), ps.describe());
            assertEquals(now.getLabels().get(Engine.TASK_ID), t.rows().get(0).get("ID"));
            assertTrue(t.rows().get(0).get("CURRENT STATE").startsWith("Running "), ps.describe());
            assertEquals(old.getLabels().get(Engine.TASK_ID), t.rows().get(1).get("ID"));
            assertEquals("Shutdown", t.rows().get(1).get("DESIRED STATE"), ps.describe());
            assertTrue(t.rows().get(1).get("CURRENT STATE").startsWith("Failed "), ps.describe());
        });
        Eventually.settle(SETTLE);
        assertEquals(1, node.running("solo").size(), Engine.describe(node.running("solo")));
    }

    @Test
    @Order(4)
    void changesMadeAfterARestartSurviveTheNextOne() {
        String before = versions("dur");
        long oldVersion = Long.parseLong(before.split(" ")[2]);
        node.docker("service", "scale", "-d", "dur=4");
        node.docker("service", "rm", "solo");
        List<Container> four = node.awaitRunning("dur", 4);
        Eventually.await("solo's containers are gone", () -> assertTrue(node.allContainers("solo").isEmpty()));
        String after = versions("dur");
        assertTrue(Long.parseLong(after.split(" ")[2]) > oldVersion, before + " -> " + after);
        assertTrue(after.endsWith(" 4"), after);
        awaitLs("[0-9a-z]{12}\\s+dur\\s+replicated\\s+4/4\\s+alpine:latest\\s*");
        Map<String, String> containers = containers();

        restart();

        awaitLs("[0-9a-z]{12}\\s+dur\\s+replicated\\s+4/4\\s+alpine:latest\\s*");
        Eventually.settle(SETTLE);
        assertEquals(after, versions("dur"));
        CliResult gone = node.cli().run("service", "inspect", "solo");
        assertEquals(1, gone.exitCode(), "a removed service stays removed: " + gone.describe());
        assertEquals(List.of("dur"), node.docker("service", "ls", "--format", "{{.Name}}").nonBlankLines());
        assertEquals(containers, containers(), "the same 4 containers, adopted");
        assertEquals(four.stream().map(Container::getId).sorted().collect(Collectors.toList()),
                node.running("dur").stream().map(Container::getId).sorted().collect(Collectors.toList()));
    }
    @Test
    @Order(5)
    void killedInTheMiddleOfAScaleUpItConvergesWithoutDuplicates() {
        awaitLs("[0-9a-z]{12}\\s+dur\\s+replicated\\s+4/4\\s+alpine:latest\\s*");
        node.docker("service", "scale", "-d", "dur=8");
        // acknowledged: the daemon dies while it is still starting the new tasks
        restart();

        Eventually.await("dur runs exactly one container in each of the slots 1..8", () -> {
            List<Container> running = node.running("dur");
            assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 8), TestNode.slots(running), Engine.describe(running));
        });
        awaitLs("[0-9a-z]{12}\\s+dur\\s+replicated\\s+8/8\\s+alpine:latest\\s*");
        Eventually.settle(SETTLE);
        Eventually.await("no stray container of dur (created but never adopted, or duplicated)", () -> {
            List<Container> all = node.allContainers("dur");
            assertEquals(8, all.size(), Engine.describe(all));
        });
        assertEquals(List.of(1, 2, 3, 4, 5, 6, 7, 8), TestNode.slots(node.running("dur")));
    }

    @Test
    @Order(6)
    void killedRightAfterARemoveTheServiceStaysRemoved() {
        node.docker("service", "rm", "dur");
        restart();

        Eventually.await("every container of dur is gone", () -> {
            List<Container> all = node.allContainers("dur");
            assertTrue(all.isEmpty(), Engine.describe(all));
        });
        assertEquals(List.of(), node.docker("service", "ls", "-q").nonBlankLines());
        CliResult gone = node.cli().run("service", "inspect", "dur");
        assertEquals(1, gone.exitCode(), gone.describe());
    }
}
