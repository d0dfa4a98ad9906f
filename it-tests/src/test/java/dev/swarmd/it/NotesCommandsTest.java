package dev.swarmd.it;

import static dev.swarmd.it.Lines.assertInOrder;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.github.dockerjava.api.model.Container;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The rest of the user notes' single-node commands: join-token (and --rotate), node drain / active,
 * service update --image and the no-flag update, published ports as inspect shows them, and swarm leave.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class NotesCommandsTest {
    static final int N = 17;
    static TestNode node;

    @BeforeAll
    static void startDaemon() {
        node = TestNode.start("notes", N);
        node.swarmInit().ok();
    }

    @AfterAll
    static void stopDaemon() {
        if (node != null) {
            node.close();
        }
    }

    static String q(String s) {
        return java.util.regex.Pattern.quote(s);
    }

    @Test
    @Order(1)
    void joinTokensAndRotation() {
        String worker = node.docker("swarm", "join-token", "-q", "worker").stdout().trim();
        String manager = node.docker("swarm", "join-token", "-q", "manager").stdout().trim();
        assertInOrder(node.docker("swarm", "join-token", "manager"),
                "To add a manager to this swarm, run the following command:",
                "docker swarm join --token " + q(manager) + " " + q(node.advertiseAddr()) + ":2377");

        CliResult rotate = node.docker("swarm", "join-token", "--rotate", "worker");
        assertInOrder(rotate, "Successfully rotated worker join token\\.",
                "To add a worker to this swarm, run the following command:",
                "docker swarm join --token (SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}) " + q(node.advertiseAddr()) + ":2377");
        String rotated = node.docker("swarm", "join-token", "-q", "worker").stdout().trim();
        assertNotEquals(worker, rotated, "a new worker token");
        assertTrue(rotate.stdout().contains(rotated), rotate.describe());
        assertEquals(worker.substring(0, 60), rotated.substring(0, 60), "same CA digest part: " + worker + " / " + rotated);
        assertEquals(manager, node.docker("swarm", "join-token", "-q", "manager").stdout().trim(), "manager token kept");
    }

    @Test
    @Order(2)
    void drainThenActivate() {
        node.docker("service", "create", "-d", "--replicas", "2", "--name", "drainme", "alpine", "sleep", "3600");
        node.awaitRunning("drainme", 2);

        assertEquals(List.of(node.hostname()),
                node.docker("node", "update", "--availability", "drain", node.hostname()).nonBlankLines());
        CliResult ls = node.docker("node", "ls");
        assertTrue(ls.hasLine(q(node.nodeId()) + " \\*\\s+" + q(node.hostname()) + "\\s+Ready\\s+Drain\\s+Leader(\\s+\\S+)?\\s*"),
                ls.describe());
        assertInOrder(node.docker("node", "inspect", "--pretty", node.hostname()), "Status:", "State:\\s+Ready",
                "Availability:\\s+Drain");
        Eventually.await("no container of drainme runs on a drained node", () -> {
            List<Container> running = node.running("drainme");
            assertTrue(running.isEmpty(), Engine.describe(running));
        });
        Eventually.await("service ls shows drainme 0/2", () -> assertTrue(node.docker("service", "ls")
                .hasLine("[0-9a-z]{12}\\s+drainme\\s+replicated\\s+0/2\\s+alpine:latest\\s*")));

        assertEquals(List.of(node.hostname()),
                node.docker("node", "update", "--availability", "active", node.hostname()).nonBlankLines());
        assertTrue(node.docker("node", "ls").hasLine(q(node.nodeId()) + " \\*\\s+" + q(node.hostname())
                + "\\s+Ready\\s+Active\\s+Leader(\\s+\\S+)?\\s*"));
        List<Container> back = node.awaitRunning("drainme", 2);
        assertEquals(List.of(1, 2), TestNode.slots(back));
        Eventually.await("service ls shows drainme 2/2", () -> assertTrue(node.docker("service", "ls")
                .hasLine("[0-9a-z]{12}\\s+drainme\\s+replicated\\s+2/2\\s+alpine:latest\\s*")));
        node.docker("service", "rm", "drainme");
        Eventually.await("no container of drainme left", () -> assertTrue(node.allContainers("drainme").isEmpty()));
    }

    @Test
    @Order(3)
    void rollingImageUpdate() {
        node.docker("service", "create", "-d", "--replicas", "2", "--name", "upd", "--update-delay", "1s",
                "alpine", "sleep", "3600");
        List<Container> before = node.awaitRunning("upd", 2);
        assertInOrder(node.docker("service", "inspect", "--pretty", "upd"), "UpdateConfig:", "Parallelism:\\s+1",
                "Delay:\\s+1s", "On failure:\\s+pause");

        CliResult update = node.cli().run(Duration.ofSeconds(180), "service", "update", "--image", "busybox:latest", "upd");
        update.ok();
        assertInOrder(update, "upd", "verify: Service upd converged");
        assertEquals("busybox:latest", node.docker("service", "inspect", "--format",
                "{{.Spec.TaskTemplate.ContainerSpec.Image}}", "upd").stdout().trim());

        List<Container> after = node.awaitRunning("upd", 2);
        assertEquals(List.of(1, 2), TestNode.slots(after));
        for (Container c : after) {
            assertTrue(before.stream().noneMatch(b -> b.getId().equals(c.getId())), "a new container per slot");
            assertEquals("busybox:latest", node.engine().inspect(c.getId()).getConfig().getImage());
        }
        Eventually.await("service ps upd shows the updated tasks over the old ones", () -> {
            CliResult ps = node.docker("service", "ps", "upd");
            Table t = Table.parse(ps, "ID", "NAME", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR", "PORTS");
            assertEquals(List.of("upd.1", "\\_ upd.1", "upd.2", "\\_ upd.2"), t.column("NAME"), ps.describe());
            assertEquals(List.of("busybox:latest", "alpine:latest", "busybox:latest", "alpine:latest"), t.column("IMAGE"),
                    ps.describe());
            assertEquals(List.of("Running", "Shutdown", "Running", "Shutdown"), t.column("DESIRED STATE"), ps.describe());
        });
        Eventually.await("UpdateStatus completed", () -> assertEquals("completed", node.docker("service", "inspect",
                "--format", "{{.UpdateStatus.State}}", "upd").stdout().trim()));

        // the notes' way to resume a paused update: `docker service update <name>` with no flag; nothing to do here
        CliResult again = node.cli().run(Duration.ofSeconds(180), "service", "update", "upd");
        again.ok();
        assertEquals(after.stream().map(Container::getId).sorted().toList(),
                node.running("upd").stream().map(Container::getId).sorted().toList(), "a no-op update restarts nothing");
        node.docker("service", "rm", "upd");
        Eventually.await("no container of upd left", () -> assertTrue(node.allContainers("upd").isEmpty()));
    }

    @Test
    @Order(4)
    void publishedPortsAsInspectShowsThem() {
        node.docker("service", "create", "-d", "--name", "pub", "--publish", "published=18080,target=80",
                "-p", "18081:81/udp", "alpine", "sleep", "3600");
        assertEquals("[{\"Protocol\":\"tcp\",\"TargetPort\":80,\"PublishedPort\":18080,\"PublishMode\":\"ingress\"},"
                        + "{\"Protocol\":\"udp\",\"TargetPort\":81,\"PublishedPort\":18081,\"PublishMode\":\"ingress\"}]",
                node.docker("service", "inspect", "--format", "{{json .Endpoint.Spec.Ports}}", "pub").stdout().trim());
        Eventually.await("service ls shows the ports", () -> {
            CliResult ls = node.docker("service", "ls");
            Table t = Table.parse(ls, "ID", "NAME", "MODE", "REPLICAS", "IMAGE", "PORTS");
            List<Map<String, String>> rows = t.where("NAME", "pub");
            assertEquals(1, rows.size(), ls.describe());
            assertEquals("*:18080->80/tcp, *:18081->81/udp", rows.get(0).get("PORTS"), ls.describe());
        });
        node.docker("service", "rm", "pub");
        Eventually.await("no container of pub left", () -> assertTrue(node.allContainers("pub").isEmpty()));
    }

    @Test
    @Order(9)
    void leaveTheSwarm() {
        node.docker("service", "create", "-d", "--name", "last", "alpine", "sleep", "3600");
        node.awaitRunning("last", 1);

        CliResult refused = node.cli().run("swarm", "leave");
        assertEquals(1, refused.exitCode(), refused.describe());
        assertTrue(refused.stderr().contains("You are attempting to leave the swarm on a node that is participating as a manager."),
                refused.describe());
        assertEquals("active", node.docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout().trim());

        assertEquals(List.of("Node left the swarm."), node.docker("swarm", "leave", "--force").nonBlankLines());
        assertEquals("inactive", node.docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout().trim());
        CliResult ls = node.cli().run("node", "ls");
        assertEquals(1, ls.exitCode(), ls.describe());
        assertTrue(ls.stderr().contains("This node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm join\""
                + " to connect this node to swarm and try again."), ls.describe());
        Eventually.await("the swarm's containers are gone after leaving", () -> {
            List<Container> all = node.allContainers("last");
            assertTrue(all.isEmpty(), Engine.describe(all));
        });
        CliResult again = node.cli().run("swarm", "leave", "--force");
        assertEquals(1, again.exitCode(), again.describe());
        assertTrue(again.stderr().contains("This node is not part of a swarm"), again.describe());
    }
}
