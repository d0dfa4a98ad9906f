package dev.swarmd.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.command.ExecCreateCmdResponse;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.Container;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Health checks, from the image's HEALTHCHECK or the --health-* flags: a task is Starting until its container is
 * healthy, and only then Running (for the CLI's progress and the updater); an unhealthy container is stopped and its
 * task fails with Docker's error and is replaced. The image swarmd-test/health becomes healthy HEALTHY_AFTER seconds
 * (default 2) after it starts, when it creates /tmp/healthy; its check tests that file every second.
 */
class HealthCheckTest {
    static final int N = 65;
    static final String IMAGE = "swarmd-test/health";
    static final ObjectMapper JSON = new ObjectMapper();
    static TestNode node;

    @BeforeAll
    static void startDaemon() {
        node = TestNode.start("health", N);
        node.swarmInit().ok();
    }

    @AfterAll
    static void stopDaemon() {
        if (node != null) {
            node.close();
        }
    }

    @AfterEach
    void removeServices() {
        for (String name : node.docker("service", "ls", "--format", "{{.Name}}").nonBlankLines()) {
            node.docker("service", "rm", name);
        }
        Eventually.await("no container left", () -> assertEquals(List.of(), node.allContainers()));
    }

    /** The service's tasks as GET /tasks gives them, newest first. */
    static List<JsonNode> tasks(String service) {
        String filters = URLEncoder.encode("{\"service\":[\"" + service + "\"]}", StandardCharsets.UTF_8);
        RawHttp.Response r = node.raw().get(TestNode.API + "/tasks?filters=" + filters);
        assertEquals(200, r.status(), r.toString());
        try {
            List<JsonNode> out = new ArrayList<>();
            JSON.readTree(r.body()).forEach(out::add);
            out.sort(Comparator.comparing((JsonNode t) -> Instant.parse(t.path("CreatedAt").asText())).reversed());
            return out;
        } catch (Exception e) {
            throw new AssertionError("bad /tasks body: " + r.body(), e);
        }
    }

    static Instant at(JsonNode task) {
        return Instant.parse(task.path("Status").path("Timestamp").asText());
    }

    static String state(JsonNode task) {
        return task.path("Status").path("State").asText();
    }

    /** When the task's container started, as the engine recorded it. */
    static Instant containerStarted(JsonNode task) {
        String id = task.path("Status").path("ContainerStatus").path("ContainerID").asText();
        assertFalse(id.isEmpty(), "task has a container: " + task);
        return Instant.parse(node.engine().inspect(id).getState().getStartedAt());
    }

    static void exec(String containerId, String... cmd) throws InterruptedException {
        ExecCreateCmdResponse e = node.engine().client().execCreateCmd(containerId).withCmd(cmd).exec();
        node.engine().client().execStartCmd(e.getId()).start().awaitCompletion(30, java.util.concurrent.TimeUnit.SECONDS);
    }

    @Test
    void theImagesHealthCheckKeepsATaskStartingUntilItIsHealthy() {
        CliResult create = node.docker("service", "create", "--name", "hi", "--replicas", "2",
                "--env", "HEALTHY_AFTER=3", IMAGE);
        assertTrue(create.stdout().contains("converged") || create.stderr().contains("converged"), create.describe());

        List<JsonNode> tasks = tasks("hi");
        assertEquals(2, tasks.size(), tasks.toString());
        for (JsonNode t : tasks) {
            assertEquals("running", state(t), t.toString());
            Duration untilRunning = Duration.between(containerStarted(t), at(t));
            assertTrue(untilRunning.compareTo(Duration.ofMillis(2900)) >= 0,
                    "running only once healthy, 3 s after the container started, not after " + untilRunning);
        }
        for (Container c : node.running("hi")) {
            InspectContainerResponse i = node.engine().inspect(c.getId());
            assertEquals("healthy", i.getState().getHealth().getStatus());
        }
        assertTrue(node.docker("service", "ls").hasLine(".*\\shi\\s+replicated\\s+2/2\\s.*"));
    }

    @Test
    void startingTasksAreNotCountedRunning() {
        node.docker("service", "create", "-d", "--name", "slow", "--env", "HEALTHY_AFTER=3600", IMAGE);
        Eventually.await("the task's container runs", () -> assertEquals(1, node.running("slow").size()));
        Eventually.await("the task is starting", () -> assertEquals("starting", state(tasks("slow").get(0))));
        Eventually.settle(Duration.ofSeconds(3));
        assertEquals("starting", state(tasks("slow").get(0)), "never healthy, never running");
        assertTrue(node.docker("service", "ls").hasLine(".*\\sslow\\s+replicated\\s+0/1\\s.*"));
        assertTrue(node.docker("service", "ps", "--format", "{{.CurrentState}}", "slow").stdout().startsWith("Starting"));
    }

    @Test
    void noHealthcheckRunsAtOnceAndHealthFlagsOverrideTheImage() {
        node.docker("service", "create", "-d", "--name", "nohc", "--no-healthcheck", "--env", "HEALTHY_AFTER=3600",
                IMAGE);
        Eventually.await("nohc is running", () -> assertEquals("running", state(tasks("nohc").get(0))));
        Container c = node.running("nohc").get(0);
        assertNull(node.engine().inspect(c.getId()).getState().getHealth(), "no health check in the container");
        assertEquals("[\"NONE\"]", node.docker("service", "inspect", "--format",
                "{{json .Spec.TaskTemplate.ContainerSpec.Healthcheck.Test}}", "nohc").stdout().trim());

        node.docker("service", "create", "-d", "--name", "flags", "--health-cmd", "test -f /tmp/flag",
                "--health-interval", "1s", "--health-retries", "2", "--health-start-period", "30s", "alpine", "sh", "-c",
                "trap 'exit 0' TERM; sleep 2; touch /tmp/flag; while true; do sleep 1 & wait $!; done");
        Eventually.await("flags is running once healthy", () -> assertEquals("running", state(tasks("flags").get(0))));
        JsonNode hc = JSON.valueToTree(node.engine().inspect(node.running("flags").get(0).getId()).getConfig()
                .getHealthcheck());
        assertEquals("[\"CMD-SHELL\",\"test -f /tmp/flag\"]", hc.path("Test").toString());
        assertEquals(1_000_000_000L, hc.path("Interval").asLong());
        assertEquals(2, hc.path("Retries").asInt());
        assertEquals("{\"Test\":[\"CMD-SHELL\",\"test -f /tmp/flag\"],\"Interval\":1000000000,\"StartPeriod\":30000000000,"
                + "\"Retries\":2}", node.docker("service", "inspect", "--format",
                "{{json .Spec.TaskTemplate.ContainerSpec.Healthcheck}}", "flags").stdout().trim());
    }

    @Test
    void anUnhealthyTaskIsStoppedFailsWithDockersErrorAndIsReplaced() throws InterruptedException {
        node.docker("service", "create", "-d", "--name", "sick", "--stop-grace-period", "2s", IMAGE);
        Eventually.await("sick is running", () -> assertEquals("running", state(tasks("sick").get(0))));
        JsonNode first = tasks("sick").get(0);
        String container = first.path("Status").path("ContainerStatus").path("ContainerID").asText();

        exec(container, "/bin/rm", "/tmp/healthy");

        Eventually.await("the unhealthy task failed and a new one runs in slot 1", () -> {
            List<JsonNode> tasks = tasks("sick");
            assertEquals(2, tasks.size(), tasks.toString());
            JsonNode old = tasks.get(1);
            assertEquals(first.path("ID").asText(), old.path("ID").asText());
            assertEquals("failed", state(old), old.toString());
            assertTrue(old.path("Status").path("Err").asText()
                    .matches("task: non-zero exit \\(\\d+\\): dockerexec: unhealthy container"), old.toString());
            assertEquals("running", state(tasks.get(0)), tasks.get(0).toString());
            assertEquals(1, tasks.get(0).path("Slot").asInt());
        });
        assertFalse(node.engine().isRunning(container), "the unhealthy container was stopped");
        CliResult ps = node.docker("service", "ps", "--no-trunc", "sick");
        assertTrue(ps.hasLine(".*Failed .* ago\\s+\"task: non-zero exit \\(\\d+\\): dockerexec: unhealthy container\"\\s*"),
                ps.describe());
    }

    @Test
    void aTaskThatNeverGetsHealthyIsReplacedWithoutEverRunning() {
        node.docker("service", "create", "-d", "--name", "never", "--health-cmd", "false", "--health-interval", "1s",
                "--health-retries", "1", "--restart-delay", "1s", "--stop-grace-period", "1s", "alpine", "sleep", "3600");
        Eventually.await("a first task failed unhealthy and was replaced", () -> {
            List<JsonNode> tasks = tasks("never");
            assertTrue(tasks.size() >= 2, tasks.toString());
            JsonNode failed = tasks.get(tasks.size() - 1);
            assertEquals("failed", state(failed), failed.toString());
            assertTrue(failed.path("Status").path("Err").asText().endsWith("dockerexec: unhealthy container"));
        });
        assertTrue(node.docker("service", "ls").hasLine(".*\\snever\\s+replicated\\s+0/1\\s.*"));
    }

    @Test
    void aRollingUpdateWaitsForEachNewTaskToBeHealthy() {
        node.docker("service", "create", "--name", "web", "--replicas", "2", "--env", "HEALTHY_AFTER=1", IMAGE);
        CliResult update = node.docker("service", "update", "--env-add", "HEALTHY_AFTER=3", "--update-parallelism", "1",
                "web");
        assertEquals(0, update.exitCode(), update.describe());

        List<JsonNode> fresh = tasks("web").stream()
                .filter(t -> t.path("DesiredState").asText().equals("running")).toList();
        assertEquals(2, fresh.size());
        JsonNode second = fresh.get(0);
        JsonNode first = fresh.get(1);
        for (JsonNode t : fresh) {
            assertTrue(t.path("Spec").path("ContainerSpec").path("Env").toString().contains("HEALTHY_AFTER=3"));
            Duration untilRunning = Duration.between(containerStarted(t), at(t));
            assertTrue(untilRunning.compareTo(Duration.ofMillis(2900)) >= 0, "running once healthy: " + untilRunning);
        }
        Instant secondCreated = Instant.parse(second.path("CreatedAt").asText());
        assertFalse(secondCreated.isBefore(at(first)),
                "the second slot was replaced only after the first new task was healthy and running: created "
                        + secondCreated + ", first running at " + at(first));
        // the CLI stops watching once the tasks converged for the monitor window; the status follows a moment later
        Eventually.await("the update is completed", () -> assertEquals("completed",
                node.docker("service", "inspect", "--format", "{{.UpdateStatus.State}}", "web").stdout().trim()));
    }

    @Test
    void anUpdateToATaskThatNeverGetsHealthyPauses() {
        node.docker("service", "create", "--name", "gate", "--replicas", "3", "--env", "HEALTHY_AFTER=1", IMAGE);
        CliResult update = node.cli().run("service", "update", "--health-cmd", "false", "--health-interval", "1s",
                "--health-retries", "1", "--health-start-period", "1ms", "--stop-grace-period", "1s", "gate");
        assertEquals(1, update.exitCode(), update.describe());
        assertTrue((update.stdout() + update.stderr()).contains(
                "service update paused: update paused due to failure or early termination of task"), update.describe());
        assertEquals("paused", node.docker("service", "inspect", "--format", "{{.UpdateStatus.State}}", "gate")
                .stdout().trim());
        long oldRunning = tasks("gate").stream()
                .filter(t -> state(t).equals("running") && t.path("Spec").path("ContainerSpec").path("Healthcheck")
                        .isMissingNode())
                .count();
        assertEquals(2, oldRunning, "the two slots not reached keep their old healthy task");
    }

    @Test
    void badHealthConfigsAreRefusedAsSwarmkitRefusesThem() {
        String base = "{\"Name\":\"badhc\",\"TaskTemplate\":{\"ContainerSpec\":{\"Image\":\"alpine\",\"Healthcheck\":";
        RawHttp.Response r = node.raw().postJson(TestNode.API + "/services/create", base + "{\"Interval\":1000}}}}");
        assertEquals(400, r.status(), r.toString());
        assertEquals("application/json", r.contentType());
        assertTrue(r.body().contains("Interval in HealthConfig cannot be less than 1ms"), r.body());

        r = node.raw().postJson(TestNode.API + "/services/create", base + "{\"Retries\":-1}}}}");
        assertEquals(400, r.status(), r.toString());
        assertTrue(r.body().contains("Retries in HealthConfig cannot be negative"), r.body());

        r = node.raw().postJson(TestNode.API + "/services/create", base + "{\"Test\":[\"BOGUS\",\"x\"]}}}}");
        assertEquals(400, r.status(), r.toString());

        assertEquals(List.of(), node.docker("service", "ls", "-q").nonBlankLines(), "nothing was created");
    }
}
