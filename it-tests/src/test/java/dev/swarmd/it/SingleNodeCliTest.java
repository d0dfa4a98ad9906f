package dev.swarmd.it;

import static dev.swarmd.it.Lines.assertInOrder;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.github.dockerjava.api.model.Container;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * One manager, driven by the stock docker CLI exactly as the user notes do: swarm init, node ls/inspect, info,
 * service create/ls/ps/inspect/scale/rm, global mode, attached create. Each check looks at the CLI's output and at
 * the real containers on the engine.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SingleNodeCliTest {
    static final int N = 16;
    static TestNode node;
    static CliResult init;
    static String addr;
    static String host;

    /** web's state, shared by the ordered tests of its life cycle. */
    static String webId;
    static Map<Integer, String> webContainerBySlot;

    @BeforeAll
    static void startDaemon() {
        node = TestNode.start("single", N);
        addr = node.advertiseAddr();
        host = node.hostname();
        init = node.swarmInit();
    }

    @AfterAll
    static void stopDaemon() {
        if (node != null) {
            node.close();
        }
    }

    @Test
    @Order(1)
    void swarmInitPrintsTheNodeAndTheJoinCommand() {
        init.ok();
        Matcher m = assertInOrder(init, "Swarm initialized: current node \\((" + Ids.ID + ")\\) is now a manager\\.");
        assertEquals(node.nodeId(), m.group(1), "node ID printed by init vs docker info");
        assertInOrder(init,
                "Swarm initialized: current node \\(" + Ids.ID + "\\) is now a manager\\.",
                "To add a worker to this swarm, run the following command:",
                "docker swarm join --token (SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}) " + quote(addr) + ":2377",
                "To add a manager to this swarm, run 'docker swarm join-token manager' and follow the instructions\\.");
        String workerToken = init.line("    docker swarm join --token (SWMTKN-1-\\S+) " + quote(addr) + ":2377").group(1);

        // the same token again, from join-token
        CliResult jt = node.docker("swarm", "join-token", "worker");
        assertInOrder(jt, "To add a worker to this swarm, run the following command:",
                "docker swarm join --token " + quote(workerToken) + " " + quote(addr) + ":2377");
        assertEquals(workerToken, node.docker("swarm", "join-token", "-q", "worker").stdout().trim());
        String managerToken = node.docker("swarm", "join-token", "-q", "manager").stdout().trim();
        assertTrue(managerToken.matches("SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}"), managerToken);
        assertFalse(managerToken.equals(workerToken), "manager and worker tokens differ");

        // a second init is refused
        CliResult again = node.cli().run("swarm", "init", "--advertise-addr", addr);
        assertEquals(1, again.exitCode(), again.describe());
        assertTrue(again.stderr().contains("This node is already part of a swarm"), again.describe());
    }

    @Test
    @Order(0)
    void pingAnswersOkWithTheApiVersion() {
        RawHttp.Response get = node.raw().get("/_ping");
        assertEquals(200, get.status(), get.toString());
        assertEquals("OK", get.body(), get.toString());
        String api = get.header("api-version");
        assertNotNull(api, "Api-Version header (else the CLI falls back to API 1.24): " + get);
        assertTrue(api.matches("1\\.(4[1-9]|50)"), "Api-Version 1.41..1.50: " + api);
        if (!node.reference()) { // docker-java's transport (reference mode) has no HEAD
            RawHttp.Response head = node.raw().send("HEAD", "/_ping", null);
            assertEquals(200, head.status(), head.toString());
        }
        RawHttp.Response versioned = node.raw().get(TestNode.API + "/version");
        assertEquals(200, versioned.status(), versioned.toString());
    }

    @Test
    @Order(2)
    void nodeLsShowsOneReadyLeader() {
        CliResult r = node.docker("node", "ls");
        assertTrue(r.stdoutLines().get(0).matches("ID\\s+HOSTNAME\\s+STATUS\\s+AVAILABILITY\\s+MANAGER STATUS\\s+ENGINE VERSION\\s*"),
                r.describe());
        Table t = Table.parse(r, "ID", "HOSTNAME", "STATUS", "AVAILABILITY", "MANAGER STATUS", "ENGINE VERSION");
        assertEquals(1, t.size(), r.describe());
        String row = t.rawRows().get(0);
        assertTrue(row.matches(quote(node.nodeId()) + " \\*\\s+" + quote(host) + "\\s+Ready\\s+Active\\s+Leader(\\s+\\S+)?\\s*"),
                "row: '" + row + "'");
        assertEquals(List.of(node.nodeId()), node.docker("node", "ls", "-q").nonBlankLines());
    }

    @Test
    @Order(3)
    void nodeInspectPretty() {
        for (String ref : List.of(host, "self", node.nodeId())) {
            CliResult r = node.docker("node", "inspect", "--pretty", ref);
            assertInOrder(r,
                    "ID:\\s+" + quote(node.nodeId()),
                    "Hostname:\\s+" + quote(host),
                    "Status:",
                    "State:\\s+Ready",
                    "Availability:\\s+Active",
                    "Address:\\s+" + quote(addr),
                    "Manager Status:",
                    "Address:\\s+" + quote(addr) + ":2377",
                    "Leader:\\s+Yes");
        }
        CliResult none = node.cli().run("node", "inspect", "--pretty", "nosuchnode");
        assertEquals(1, none.exitCode(), none.describe());
    }

    @Test
    @Order(4)
    void infoShowsAnActiveSwarm() {
        CliResult r = node.docker("info");
        assertInOrder(r,
                "Swarm: active",
                "NodeID: " + quote(node.nodeId()),
                "Is Manager: true",
                "ClusterID: \\S+",
                "Managers: 1",
                "Nodes: 1",
                "Node Address: " + quote(addr),
                "Manager Addresses:",
                quote(addr) + ":2377");
        assertEquals("active true", node.docker("info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}")
                .stdout().trim());
    }

    @Test
    @Order(10)
    void createReplicatedServiceRunsThreeLabelledContainers() {
        CliResult r = node.docker("service", "create", "-d", "--replicas", "3", "--name", "web", "alpine", "sleep", "3600");
        List<String> out = r.nonBlankLines();
        assertEquals(1, out.size(), "detached create prints only the ID: " + r.describe());
        assertTrue(out.get(0).matches(Ids.ID), r.describe());
        webId = out.get(0);

        List<Container> running = node.awaitRunning("web", 3);
        assertEquals(List.of(1, 2, 3), TestNode.slots(running));
        Set<String> taskIds = node.docker("service", "ps", "-q", "--no-trunc", "web").nonBlankLines().stream()
                .collect(Collectors.toSet());
        webContainerBySlot = new HashMap<>();
        for (Container c : running) {
            Map<String, String> l = c.getLabels();
            assertEquals(webId, l.get(Engine.SERVICE_ID), "service id label of " + Engine.name(c));
            assertEquals("web", l.get(Engine.SERVICE_NAME));
            assertEquals(node.nodeId(), l.get(Engine.NODE_ID));
            String taskId = l.get(Engine.TASK_ID);
            assertNotNull(taskId);
            assertTrue(taskId.matches(Ids.ID), taskId);
            assertTrue(taskIds.contains(taskId), "task " + taskId + " of container " + Engine.name(c)
                    + " is listed by service ps: " + taskIds);
            int slot = Engine.slot(c);
            assertEquals("web." + slot + "." + taskId, l.get(Engine.TASK_NAME));
            assertEquals("web." + slot + "." + taskId, Engine.name(c), "container name");
            if (!node.reference()) {
                assertEquals(host, l.get(Engine.SWARMD_HOSTNAME));
            }
            assertEquals(List.of("sleep", "3600"), commandOf(c), "command of " + Engine.name(c));
            webContainerBySlot.put(slot, c.getId());
        }
    }

    @Test
    @Order(11)
    void serviceLsPsAndInspectDescribeWeb() {
        assumeTrue(webId != null, "web was not created");
        Eventually.await("service ls shows web 3/3", () -> {
            CliResult ls = node.docker("service", "ls");
            Table t = Table.parse(ls, "ID", "NAME", "MODE", "REPLICAS", "IMAGE", "PORTS");
            assertEquals(1, t.size(), ls.describe());
            assertTrue(t.rawRows().get(0).matches(quote(webId.substring(0, 12)) + "\\s+web\\s+replicated\\s+3/3\\s+alpine:latest\\s*"),
                    ls.describe());
        });

        CliResult ps = node.docker("service", "ps", "web");
        Table t = Table.parse(ps, "ID", "NAME", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR", "PORTS");
        assertEquals(List.of("web.1", "web.2", "web.3"), t.column("NAME"), ps.describe());
        for (Map<String, String> row : t.rows()) {
            assertTrue(row.get("ID").matches("[0-9a-z]{12}"), row.toString());
            assertEquals("alpine:latest", row.get("IMAGE"), row.toString());
            assertEquals(host, row.get("NODE"), row.toString());
            assertEquals("Running", row.get("DESIRED STATE"), row.toString());
            assertTrue(row.get("CURRENT STATE").matches("Running .+ ago"), row.toString());
            assertEquals("", row.get("ERROR"), row.toString());
        }

        CliResult pretty = node.docker("service", "inspect", "--pretty", "web");
        assertInOrder(pretty,
                "ID:\\s+" + quote(webId),
                "Name:\\s+web",
                "Service Mode:\\s+Replicated",
                "Replicas:\\s+3",
                "ContainerSpec:",
                "Image:\\s+alpine:latest",
                "Args:\\s+sleep 3600",
                "Endpoint Mode:\\s+vip");

        assertEquals("3", node.docker("service", "inspect", "--format", "{{.Spec.Mode.Replicated.Replicas}}", "web")
                .stdout().trim());
        assertEquals(webId, node.docker("service", "inspect", "--format", "{{.ID}}", "web").stdout().trim());
        // by ID and by unique ID prefix too
        assertEquals("web", node.docker("service", "inspect", "--format", "{{.Spec.Name}}", webId).stdout().trim());
        assertEquals("web", node.docker("service", "inspect", "--format", "{{.Spec.Name}}", webId.substring(0, 6))
                .stdout().trim());
    }

    @Test
    @Order(12)
    void scaleUpToFiveConverges() {
        assumeTrue(webId != null, "web was not created");
        CliResult r = node.cli().run(Duration.ofSeconds(180), "service", "scale", "web=5");
        r.ok();
        assertInOrder(r, "web scaled to 5", "verify: Service web converged");

        List<Container> running = node.awaitRunning("web", 5);
        assertEquals(List.of(1, 2, 3, 4, 5), TestNode.slots(running));
        for (Container c : running) {
            int slot = Engine.slot(c);
            if (slot <= 3) {
                assertEquals(webContainerBySlot.get(slot), c.getId(), "slot " + slot + " kept its container");
            }
            webContainerBySlot.put(slot, c.getId());
        }
        assertEquals("5", node.docker("service", "inspect", "--format", "{{.Spec.Mode.Replicated.Replicas}}", "web")
                .stdout().trim());
        Eventually.await("service ls shows web 5/5", () -> {
            CliResult ls = node.docker("service", "ls");
            assertTrue(ls.hasLine(quote(webId.substring(0, 12)) + "\\s+web\\s+replicated\\s+5/5\\s+alpine:latest\\s*"),
                    ls.describe());
        });
    }

    @Test
    @Order(13)
    void scaleDownToTwoRemovesTheHighestSlots() {
        assumeTrue(webId != null, "web was not created");
        CliResult r = node.cli().run(Duration.ofSeconds(180), "service", "scale", "web=2");
        r.ok();
        assertInOrder(r, "web scaled to 2", "verify: Service web converged");

        List<Container> running = node.awaitRunning("web", 2);
        assertEquals(List.of(1, 2), TestNode.slots(running));
        for (Container c : running) {
            assertEquals(webContainerBySlot.get(Engine.slot(c)), c.getId(), "slot " + Engine.slot(c) + " kept its container");
        }
        Eventually.await("the containers of slots 3-5 are removed", () -> {
            List<Container> all = node.allContainers("web");
            assertEquals(List.of(1, 2), TestNode.slots(all), Engine.describe(all));
        });
        Eventually.await("service ps web lists slots 1 and 2 only", () -> {
            CliResult ps = node.docker("service", "ps", "web");
            Table t = Table.parse(ps, "ID", "NAME", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR", "PORTS");
            assertEquals(List.of("web.1", "web.2"), t.column("NAME"), ps.describe());
        });
        Eventually.await("service ls shows web 2/2", () -> {
            CliResult ls = node.docker("service", "ls");
            assertTrue(ls.hasLine(quote(webId.substring(0, 12)) + "\\s+web\\s+replicated\\s+2/2\\s+alpine:latest\\s*"),
                    ls.describe());
        });
    }

    @Test
    @Order(14)
    void removeServiceRemovesItsContainers() {
        assumeTrue(webId != null, "web was not created");
        CliResult r = node.docker("service", "rm", "web");
        assertEquals(List.of("web"), r.nonBlankLines());
        Eventually.await("no container of web left", () -> {
            List<Container> all = node.allContainers("web");
            assertTrue(all.isEmpty(), Engine.describe(all));
        });
        CliResult ls = node.docker("service", "ls");
        assertTrue(Table.parse(ls, "ID", "NAME", "MODE", "REPLICAS", "IMAGE", "PORTS").where("NAME", "web").isEmpty(),
                ls.describe());
        CliResult inspect = node.cli().run("service", "inspect", "web");
        assertEquals(1, inspect.exitCode(), inspect.describe());
        assertTrue(inspect.stderr().contains("no such service: web"), inspect.describe());
        CliResult ps = node.cli().run("service", "ps", "web");
        assertEquals(1, ps.exitCode(), ps.describe());
        assertTrue(ps.stderr().contains("no such service: web"), ps.describe());
        CliResult rmAgain = node.cli().run("service", "rm", "web");
        assertEquals(1, rmAgain.exitCode(), rmAgain.describe());
        assertTrue(rmAgain.stderr().contains("Error response from daemon: service web not found"), rmAgain.describe());
    }

    @Test
    @Order(20)
    void globalServiceRunsOneTaskOnTheNode() {
        CliResult r = node.docker("service", "create", "-d", "--mode", "global", "--name", "glob", "alpine", "sleep", "3600");
        String id = r.nonBlankLines().get(r.nonBlankLines().size() - 1);
        assertTrue(id.matches(Ids.ID), r.describe());
        List<Container> running = node.awaitRunning("glob", 1);
        Container c = running.get(0);
        String taskId = c.getLabels().get(Engine.TASK_ID);
        assertEquals("glob." + node.nodeId() + "." + taskId, Engine.name(c), "a global task is named by its node");
        assertEquals(node.nodeId(), c.getLabels().get(Engine.NODE_ID));

        Eventually.await("service ls shows glob global 1/1", () -> {
            CliResult ls = node.docker("service", "ls");
            assertTrue(ls.hasLine(quote(id.substring(0, 12)) + "\\s+glob\\s+global\\s+1/1\\s+alpine:latest\\s*"),
                    ls.describe());
        });
        CliResult ps = node.docker("service", "ps", "glob");
        Table t = Table.parse(ps, "ID", "NAME", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR", "PORTS");
        assertEquals(List.of("glob." + node.nodeId()), t.column("NAME"), ps.describe());
        assertEquals("Running", t.rows().get(0).get("DESIRED STATE"));
        assertTrue(t.rows().get(0).get("CURRENT STATE").startsWith("Running "), ps.describe());

        assertInOrder(node.docker("service", "inspect", "--pretty", "glob"), "Name:\\s+glob", "Service Mode:\\s+Global");
        CliResult scale = node.cli().run("service", "scale", "glob=3");
        assertEquals(1, scale.exitCode(), scale.describe());
        assertTrue(scale.stderr().contains("scale can only be used with replicated or replicated-job mode"), scale.describe());

        node.docker("service", "rm", "glob");
        Eventually.await("no container of glob left", () -> assertTrue(node.allContainers("glob").isEmpty()));
    }

    @Test
    @Order(30)
    void attachedCreateWaitsForConvergence() {
        CliResult r = node.cli().run(Duration.ofSeconds(180), "service", "create", "--name", "att", "alpine", "sleep", "3600");
        r.ok();
        String id = r.nonBlankLines().get(0);
        assertTrue(id.matches(Ids.ID), "first stdout line is the service ID: " + r.describe());
        assertInOrder(r, quote(id), "overall progress: 1 out of 1 tasks", "verify: Service " + quote(id) + " converged");
        List<Container> running = node.awaitRunning("att", 1);
        assertEquals(List.of(1), TestNode.slots(running));
        node.docker("service", "rm", "att");
        Eventually.await("no container of att left", () -> assertTrue(node.allContainers("att").isEmpty()));
    }

    /** The user notes' command, verbatim. ping has no network here, so the task keeps failing and restarting. */
    @Test
    @Order(40)
    void helloworldFromTheNotesVerbatim() {
        CliResult r = node.cli().run(Duration.ofSeconds(20),
                "service", "create", "--replicas", "1", "--name", "helloworld", "alpine", "ping", "docker.com");
        // attached mode: may still be waiting for convergence when the bound is reached; that is fine here
        assertTrue(r.timedOut() || r.exitCode() == 0 || r.exitCode() == 1, r.describe());
        List<String> out = r.nonBlankLines();
        assertFalse(out.isEmpty(), r.describe());
        String id = out.get(0);
        assertTrue(id.matches(Ids.ID), "first stdout line is the service ID: " + r.describe());

        assertEquals(id + " helloworld 1 [ping docker.com]", node.docker("service", "inspect", "--format",
                "{{.ID}} {{.Spec.Name}} {{.Spec.Mode.Replicated.Replicas}} {{.Spec.TaskTemplate.ContainerSpec.Args}}",
                "helloworld").stdout().trim());
        Eventually.await("a container ran ping docker.com for helloworld", () -> {
            List<Container> all = node.allContainers("helloworld");
            assertFalse(all.isEmpty(), "no container yet");
            assertEquals(List.of("ping", "docker.com"), commandOf(all.get(0)));
        });
        CliResult ls = node.docker("service", "ls");
        assertTrue(ls.hasLine(quote(id.substring(0, 12)) + "\\s+helloworld\\s+replicated\\s+[01]/1\\s+alpine:latest\\s*"),
                ls.describe());
        node.docker("service", "rm", "helloworld");
        Eventually.await("no container of helloworld left", () -> assertTrue(node.allContainers("helloworld").isEmpty(),
                Engine.describe(node.allContainers("helloworld"))));
    }

    static List<String> commandOf(Container c) {
        // Container.getCommand() is the joined Path + Args
        return List.of(c.getCommand().split(" "));
    }

    static String quote(String s) {
        return java.util.regex.Pattern.quote(s);
    }
}
