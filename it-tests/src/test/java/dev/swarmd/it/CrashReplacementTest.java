package dev.swarmd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.model.Container;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** A task's container that dies (killed, or removed, behind the daemon's back) is replaced by a new task in its slot. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CrashReplacementTest {
    static final int N = 12;
    static TestNode node;

    @BeforeAll
    static void startDaemon() {
        node = TestNode.start("crash", N);
        node.swarmInit().ok();
    }

    @AfterAll
    static void stopDaemon() {
        if (node != null) {
            node.close();
        }
    }

    @Test
    @Order(1)
    void killedContainerIsReplacedInTheSameSlot() {
        node.docker("service", "create", "-d", "--name", "crash", "alpine", "sleep", "3600");
        Container first = node.awaitRunning("crash", 1).get(0);
        String firstTask = first.getLabels().get(Engine.TASK_ID);
        assertEquals(1, Engine.slot(first));

        node.engine().kill(first.getId());

        Container second = Eventually.awaitValue("a new running container for crash, slot 1", () -> {
            List<Container> running = node.running("crash");
            assertEquals(1, running.size(), Engine.describe(running));
            Container c = running.get(0);
            assertNotEquals(first.getId(), c.getId(), "a new container");
            return c;
        });
        String secondTask = second.getLabels().get(Engine.TASK_ID);
        assertNotEquals(firstTask, secondTask, "a new task");
        assertEquals(1, Engine.slot(second));
        assertEquals("crash.1." + secondTask, Engine.name(second));
        assertFalse(node.engine().isRunning(first.getId()), "the killed container stays dead");

        Eventually.await("service ps shows the new task running and the old one failed", () -> {
            CliResult ps = node.docker("service", "ps", "--no-trunc", "crash");
            Table t = Table.parse(ps, "ID", "NAME", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR", "PORTS");
            assertEquals(2, t.size(), ps.describe());
            Map<String, String> now = t.rows().get(0);
            assertEquals(secondTask, now.get("ID"), ps.describe());
            assertEquals("crash.1", now.get("NAME"));
            assertEquals("Running", now.get("DESIRED STATE"));
            assertTrue(now.get("CURRENT STATE").matches("Running .+ ago"), ps.describe());
            Map<String, String> old = t.rows().get(1);
            assertEquals(firstTask, old.get("ID"), ps.describe());
            assertEquals("\\_ crash.1", old.get("NAME"));
            assertEquals("Shutdown", old.get("DESIRED STATE"));
            assertTrue(old.get("CURRENT STATE").matches("Failed .+ ago"), ps.describe());
            assertEquals("\"task: non-zero exit (137)\"", old.get("ERROR"), ps.describe());
        });
        Eventually.await("service ls shows crash 1/1", () -> assertTrue(node.docker("service", "ls")
                .hasLine("[0-9a-z]{12}\\s+crash\\s+replicated\\s+1/1\\s+alpine:latest\\s*")));
    }

    @Test
    @Order(2)
    void removedContainerIsReplacedToo() {
        node.docker("service", "create", "-d", "--replicas", "2", "--name", "gone", "alpine", "sleep", "3600");
        List<Container> before = node.awaitRunning("gone", 2);
        Container victim = before.stream().filter(c -> Engine.slot(c) == 2).findFirst().orElseThrow();
        Container survivor = before.stream().filter(c -> Engine.slot(c) == 1).findFirst().orElseThrow();

        node.engine().removeForce(victim.getId());

        Eventually.await("slot 2 of gone runs a new container", () -> {
            List<Container> running = node.running("gone");
            assertEquals(List.of(1, 2), TestNode.slots(running), Engine.describe(running));
            for (Container c : running) {
                if (Engine.slot(c) == 1) {
                    assertEquals(survivor.getId(), c.getId(), "slot 1 untouched");
                } else {
                    assertNotEquals(victim.getId(), c.getId());
                    assertNotEquals(victim.getLabels().get(Engine.TASK_ID), c.getLabels().get(Engine.TASK_ID));
                }
            }
        });
        Eventually.await("service ps gone shows a replaced task in slot 2", () -> {
            CliResult ps = node.docker("service", "ps", "--no-trunc", "gone");
            Table t = Table.parse(ps, "ID", "NAME", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR", "PORTS");
            assertEquals(List.of("gone.1", "gone.2", "\\_ gone.2"), t.column("NAME"), ps.describe());
            assertEquals(victim.getLabels().get(Engine.TASK_ID), t.rows().get(2).get("ID"), ps.describe());
            assertEquals("Shutdown", t.rows().get(2).get("DESIRED STATE"), ps.describe());
        });
    }

    @Test
    @Order(3)
    void cleanUp() {
        node.docker("service", "rm", "crash", "gone");
        Eventually.await("no container of this node left", () -> {
            List<Container> all = node.allContainers();
            assertTrue(all.isEmpty(), Engine.describe(all));
        });
    }
}
