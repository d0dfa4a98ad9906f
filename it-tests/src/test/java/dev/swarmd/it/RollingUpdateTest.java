package dev.swarmd.it;

import static dev.swarmd.it.Lines.assertInOrder;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.model.Container;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Rolling updates and restart policies, driven with the stock CLI and checked on the task records the daemon keeps
 * (GET /tasks: CreatedAt, Status.State/Timestamp, DesiredState, Slot, image) and on the engine's containers.
 *
 * <p>Timing is never measured on the test's clock: a delay is checked by comparing the timestamps the daemon recorded
 * (a task created at least Delay after the previous batch's Running timestamp, a restarted task running at least the
 * restart delay after its predecessor failed).
 *
 * <p>The images come from scripts/lib.sh {@code swarmd_build_test_images}: redis:3.0.6 and redis:3.0.7 are two
 * distinct server-like images (run until SIGTERM, then exit 0), swarmd-test/broken exits 1 after about a second.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RollingUpdateTest {
    static final int N = 61;
    static final ObjectMapper JSON = new ObjectMapper();
    static final String OLD = "redis:3.0.6";
    static final String NEW = "redis:3.0.7";
    static final String BROKEN = "swarmd-test/broken:latest";
    /** A CLI run that waits for an update to converge: several slots, each with its delay and 5 s of monitoring. */
    static final Duration ATTACHED = Duration.ofSeconds(300);
    /** Bound for a whole rolling update (several delays, on a busy 2-core machine). */
    static final Duration ROLLOUT = Duration.ofSeconds(240);
    /** Time given to the daemon to do something it must not (restart a task, go on with a paused update). */
    static final Duration SETTLE = Duration.ofSeconds(8);
    static TestNode node;

    @BeforeAll
    static void startDaemon() {
        Engine engine = Engine.connect();
        try {
            TestImages.requireOurs(engine, OLD, NEW, BROKEN);
        } finally {
            engine.close();
        }
        node = TestNode.start("roll", N);
        node.swarmInit().ok();
    }

    @AfterAll
    static void stopDaemon() {
        if (node != null) {
            node.close();
        }
    }

    // ------------------------------------------------------------------ task records

    /** One task as GET /tasks gives it. {@code timestamp} is Status.Timestamp: when it entered {@code state}. */
    record Task(String id, int slot, String image, Instant createdAt, String state, Instant timestamp, String desired,
            String err, String message) {
        boolean runs(String img) {
            return image.equals(img) || image.startsWith(img + "@")
                    || (!img.contains(":") && (image.equals(img + ":latest") || image.startsWith(img + ":latest@")));
        }

        boolean live() {
            return desired.equals("running") || desired.equals("ready");
        }

        @Override
        public String toString() {
            return "slot " + slot + " " + id.substring(0, 10) + " " + image + " created " + createdAt + " " + state + "@"
                    + timestamp + " desired " + desired + (err.isEmpty() ? "" : " err '" + err + "'");
        }
    }

    static String serviceId(String service) {
        return node.docker("service", "inspect", "--format", "{{.ID}}", service).stdout().trim();
    }

    /** Every task of the service with ID {@code serviceId} the daemon keeps, oldest first. */
    static List<Task> tasks(String serviceId) {
        RawHttp.Response r = node.raw().get(TestNode.API + "/tasks");
        assertEquals(200, r.status(), r.toString());
        List<Task> list = new ArrayList<>();
        try {
            for (JsonNode t : JSON.readTree(r.body())) {
                if (!serviceId.equals(t.path("ServiceID").asText())) {
                    continue;
                }
                JsonNode status = t.path("Status");
                list.add(new Task(t.path("ID").asText(), t.path("Slot").asInt(),
                        t.path("Spec").path("ContainerSpec").path("Image").asText(),
                        Instant.parse(t.path("CreatedAt").asText()), status.path("State").asText(),
                        Instant.parse(status.path("Timestamp").asText()), t.path("DesiredState").asText(),
                        status.path("Err").asText(""), status.path("Message").asText("")));
            }
        } catch (java.io.IOException e) {
            throw new AssertionError("GET /tasks is not JSON: " + r.body(), e);
        }
        list.sort(Comparator.comparing(Task::createdAt));
        return list;
    }

    static Map<Integer, List<Task>> bySlot(List<Task> tasks) {
        return tasks.stream().collect(Collectors.groupingBy(Task::slot, TreeMap::new, Collectors.toList()));
    }

    static String describe(List<Task> tasks) {
        return tasks.stream().map(Task::toString).collect(Collectors.joining("\n  ", "[\n  ", "\n]"));
    }

    static String inspect(String service, String format) {
        return node.docker("service", "inspect", "--format", format, service).stdout().trim();
    }

    static void awaitUpdateState(String service, String state) {
        Eventually.await("UpdateStatus.State of " + service + " is " + state, ROLLOUT,
                () -> assertEquals(state, inspect(service, "{{.UpdateStatus.State}}")));
    }

    static void awaitLs(String service, String replicas, String image) {
        Eventually.await("service ls shows " + service + " " + replicas + " " + image, () -> {
            CliResult ls = node.docker("service", "ls");
            assertTrue(ls.hasLine("[0-9a-z]{12}\\s+" + service + "\\s+replicated\\s+" + replicas + "\\s+"
                    + java.util.regex.Pattern.quote(image) + "\\s*"), ls.describe());
        });
    }

    /** Waits until exactly {@code n} containers of the service run, all of them on {@code image}. */
    static void awaitContainersOn(String service, int n, String image) {
        Eventually.await(n + " running containers of " + service + " on " + image, ROLLOUT, () -> {
            List<Container> all = node.allContainers(service);
            List<Container> running = node.running(service);
            assertEquals(n, running.size(), Engine.describe(all));
            for (Container c : running) {
                assertEquals(image, node.engine().inspect(c.getId()).getConfig().getImage(), Engine.describe(running));
            }
        });
    }

    /** The slots' live tasks all run {@code image}, one per slot 1..n, all running. */
    static void assertLiveOn(String id, int n, String image) {
        List<Task> all = tasks(id);
        List<Task> live = all.stream().filter(Task::live).collect(Collectors.toList());
        assertEquals(n, live.size(), "live tasks: " + describe(all));
        assertEquals(rangeTo(n), live.stream().map(Task::slot).sorted().collect(Collectors.toList()), describe(all));
        for (Task t : live) {
            assertTrue(t.runs(image), "live task not on " + image + ": " + t + " in " + describe(all));
            assertEquals("running", t.state(), describe(all));
        }
    }

    static List<Integer> rangeTo(int n) {
        List<Integer> l = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            l.add(i);
        }
        return l;
    }

    static void remove(String... services) {
        for (String s : services) {
            node.cli().run("service", "rm", s);
        }
        for (String s : services) {
            Eventually.await("no container of " + s + " left", () -> {
                List<Container> all = node.allContainers(s);
                assertTrue(all.isEmpty(), Engine.describe(all));
            });
        }
    }

    // ------------------------------------------------------------------ rolling updates

    /**
     * The user notes' scenario, typed as they are: 3 replicas with a 10 s update delay, then an attached image update.
     * Each slot is replaced exactly once, stop-first, one at a time, the delay respected between them.
     */
    @Test
    @Order(1)
    void seedScenarioRollsOneSlotAtATimeWithTheDelay() {
        try {
            node.cli().run(ATTACHED, "service", "create", "--replicas", "3", "--name", "monredis", "--update-delay", "10s",
                    "redis:3.0.6").ok();
            node.awaitRunning("monredis", 3);
            String id = serviceId("monredis");
            Set<String> before = tasks(id).stream().map(Task::id).collect(Collectors.toSet());
            assertEquals(3, before.size());

            CliResult update = node.cli().run(ATTACHED, "service", "update", "--image", "redis:3.0.7", "monredis");
            update.ok();
            assertInOrder(update, "monredis", "overall progress: 3 out of 3 tasks", "verify: Service monredis converged");
            assertEquals(NEW, inspect("monredis", "{{.Spec.TaskTemplate.ContainerSpec.Image}}"));
            awaitUpdateState("monredis", "completed");

            List<Task> all = tasks(id);
            assertEquals(6, all.size(), "3 old + 3 new tasks, nothing else: " + describe(all));
            List<Task> fresh = new ArrayList<>();
            for (Map.Entry<Integer, List<Task>> e : bySlot(all).entrySet()) {
                List<Task> slot = e.getValue();
                assertEquals(2, slot.size(), "slot " + e.getKey() + " replaced exactly once: " + describe(all));
                Task old = slot.get(0);
                Task now = slot.get(1);
                assertTrue(before.contains(old.id()) && old.runs(OLD), describe(all));
                assertEquals("shutdown", old.desired(), describe(all));
                assertEquals("shutdown", old.state(), describe(all));
                assertTrue(now.runs(NEW), describe(all));
                assertEquals("running", now.desired(), describe(all));
                assertEquals("running", now.state(), describe(all));
                assertFalse(now.timestamp().isBefore(old.timestamp()),
                        "stop-first: slot " + e.getKey() + "'s old task stopped before its replacement ran: " + describe(all));
                fresh.add(now);
            }
            assertEquals(List.of(1, 2, 3), new ArrayList<>(bySlot(all).keySet()));
            fresh.sort(Comparator.comparing(Task::createdAt));
            for (int i = 1; i < fresh.size(); i++) {
                Instant previousRunning = fresh.get(i - 1).timestamp();
                assertFalse(fresh.get(i).createdAt().isBefore(previousRunning.plusSeconds(10)),
                        "the next slot is replaced at least 10 s (update-delay) after the previous new task ran: "
                                + describe(fresh));
            }

            CliResult ps = node.docker("service", "ps", "monredis");
            Table t = Table.parse(ps, "ID", "NAME", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR", "PORTS");
            assertEquals(List.of("monredis.1", "\\_ monredis.1", "monredis.2", "\\_ monredis.2", "monredis.3",
                    "\\_ monredis.3"), t.column("NAME"), ps.describe());
            assertEquals(List.of(NEW, OLD, NEW, OLD, NEW, OLD), t.column("IMAGE"), ps.describe());
            assertEquals(List.of("Running", "Shutdown", "Running", "Shutdown", "Running", "Shutdown"),
                    t.column("DESIRED STATE"), ps.describe());
            assertEquals("completed", inspect("monredis", "{{.UpdateStatus.State}}"));
            awaitLs("monredis", "3/3", NEW);
            awaitContainersOn("monredis", 3, NEW);
        } finally {
            remove("monredis");
        }
    }

    /**
     * An update to an image whose task fails pauses (the default failure action): the CLI's attached update exits 1
     * with "service update paused", the slots not reached keep the old image, nothing moves while paused, and an
     * update to a good image (or the notes' flag-less `docker service update`) resumes it.
     */
    @Test
    @Order(2)
    void failingUpdatePausesAndResumes() {
        Instant t0 = Instant.now();
        try {
            node.docker("service", "create", "-d", "--replicas", "3", "--name", "pausea", "--update-delay", "2s",
                    "--update-failure-action", "pause", OLD);
            node.docker("service", "create", "-d", "--replicas", "3", "--name", "pauseb", "--update-delay", "2s", OLD);
            node.awaitRunning("pausea", 3);
            node.awaitRunning("pauseb", 3);
            String a = serviceId("pausea");
            String b = serviceId("pauseb");

            node.docker("service", "update", "-d", "--image", "swarmd-test/broken", "pausea");
            CliResult attached = node.cli().run(ATTACHED, "service", "update", "--image", "swarmd-test/broken", "pauseb");
            assertEquals(1, attached.exitCode(), attached.describe());
            assertTrue(attached.stderr().contains("service update paused: update paused due to failure or early termination"
                    + " of task "), attached.describe());
            assertInOrder(attached, "pauseb", "overall progress: 0 out of 3 tasks");

            for (String service : List.of("pausea", "pauseb")) {
                String sid = service.equals("pausea") ? a : b;
                awaitUpdateState(service, "paused");
                String message = inspect(service, "{{.UpdateStatus.Message}}");
                assertTrue(message.matches("update paused due to failure or early termination of task " + Ids.ID), message);
                String failedTask = message.substring(message.lastIndexOf(' ') + 1);
                List<Task> all = tasks(sid);
                Task failed = all.stream().filter(t -> t.id().equals(failedTask)).findFirst()
                        .orElseThrow(() -> new AssertionError(failedTask + " not among " + describe(all)));
                assertTrue(failed.runs(BROKEN), failed.toString());
                assertEquals("failed", failed.state(), failed.toString());
                assertEquals("task: non-zero exit (1)", failed.err(), failed.toString());
                assertEquals(BROKEN, inspect(service, "{{.Spec.TaskTemplate.ContainerSpec.Image}}"));
            }

            // not every slot was replaced, and a paused update stays where it is
            List<Task> pausedA = tasks(a);
            Set<String> oldRunning = pausedA.stream().filter(t -> t.live() && t.runs(OLD) && t.state().equals("running"))
                    .map(Task::id).collect(Collectors.toSet());
            assertFalse(oldRunning.isEmpty(), "some slot still runs the old image: " + describe(pausedA));
            assertTrue(pausedA.stream().anyMatch(t -> t.runs(BROKEN)), describe(pausedA));
            String startedA = inspect("pausea", "{{.UpdateStatus.StartedAt}}");
            Eventually.settle(SETTLE);
            List<Task> later = tasks(a);
            assertEquals("paused", inspect("pausea", "{{.UpdateStatus.State}}"));
            assertEquals(oldRunning, later.stream().filter(t -> t.live() && t.runs(OLD) && t.state().equals("running"))
                    .map(Task::id).collect(Collectors.toSet()), "paused: the old tasks are left alone: " + describe(later));
            Set<Integer> brokenSlots = later.stream().filter(t -> t.runs(BROKEN)).map(Task::slot).collect(Collectors.toSet());
            assertTrue(brokenSlots.size() < 3, "the update did not go on while paused: " + describe(later));
            assertTrue(updateEvents(t0, "pausea").contains("service update " + a
                    + " (name=pausea, updatestate.new=paused, updatestate.old=updating)"), "docker events tells the pause");

            // resume with a good image, attached, as a user types it
            CliResult fixed = node.cli().run(ATTACHED, "service", "update", "--image", "redis:3.0.7", "pausea");
            fixed.ok();
            assertInOrder(fixed, "pausea", "verify: Service pausea converged");
            awaitUpdateState("pausea", "completed");
            assertNotEquals(startedA, inspect("pausea", "{{.UpdateStatus.StartedAt}}"), "a new update");
            Eventually.await("pausea runs redis:3.0.7 in every slot", ROLLOUT, () -> assertLiveOn(a, 3, NEW));
            awaitContainersOn("pausea", 3, NEW);
            awaitLs("pausea", "3/3", NEW);

            // the notes' way to resume: `docker service update <name>`; the image is still broken, so it pauses again
            String startedB = inspect("pauseb", "{{.UpdateStatus.StartedAt}}");
            CliResult resumed = node.cli().run(ATTACHED, "service", "update", "pauseb");
            assertEquals(1, resumed.exitCode(), resumed.describe());
            assertTrue(resumed.stderr().contains("service update paused: update paused due to failure or early"
                    + " termination of task "), resumed.describe());
            assertEquals("paused", inspect("pauseb", "{{.UpdateStatus.State}}"));
            assertNotEquals(startedB, inspect("pauseb", "{{.UpdateStatus.StartedAt}}"), "the update was restarted");
            node.docker("service", "update", "-d", "--image", "redis:3.0.7", "pauseb");
            awaitUpdateState("pauseb", "completed");
            Eventually.await("pauseb runs redis:3.0.7 in every slot", ROLLOUT, () -> assertLiveOn(b, 3, NEW));
            awaitContainersOn("pauseb", 3, NEW);
        } finally {
            remove("pausea", "pauseb");
        }
    }

    /** `docker events` for the service's updates since t0, until now, without their timestamps. */
    static List<String> updateEvents(Instant t0, String service) {
        Instant now = Instant.now();
        return node.docker("events", "--since", t0.getEpochSecond() + "." + String.format("%09d", t0.getNano()),
                "--until", now.getEpochSecond() + "." + String.format("%09d", now.getNano()), "--filter",
                "service=" + service, "--filter", "event=update").nonBlankLines().stream()
                .map(l -> l.substring(l.indexOf(' ') + 1)).collect(Collectors.toList());
    }

    /**
     * --update-failure-action rollback: a failing update rolls back by itself (rollback_completed, the old spec and
     * image back, PreviousSpec the failed one); the slots the update had not reached keep their tasks. And
     * `docker service rollback` undoes a successful update.
     */
    @Test
    @Order(3)
    void failureActionRollbackAndManualRollback() {
        Instant t0 = Instant.now();
        try {
            node.docker("service", "create", "-d", "--replicas", "3", "--name", "rollme", "--update-delay", "5s",
                    "--update-failure-action", "rollback", OLD);
            node.docker("service", "create", "-d", "--replicas", "2", "--name", "undo", "--update-delay", "1s", OLD);
            node.awaitRunning("rollme", 3);
            node.awaitRunning("undo", 2);
            String id = serviceId("rollme");
            List<Task> before = tasks(id);
            assertEquals(3, before.size(), describe(before));

            CliResult update = node.cli().run(ATTACHED, "service", "update", "--image", "swarmd-test/broken", "rollme");
            // the CLI follows the automatic rollback, and ends when the rolled-back service has converged
            update.ok();
            assertInOrder(update, "rollme", "overall progress: rolling back update: 3 out of 3 tasks",
                    "verify: Service rollme converged");
            assertTrue(update.stdout().contains("rollback: update rolled back due to failure or early termination of task ")
                    || update.stdout().contains("rollback: rollback completed"), update.describe());

            awaitUpdateState("rollme", "rollback_completed");
            assertEquals(OLD, inspect("rollme", "{{.Spec.TaskTemplate.ContainerSpec.Image}}"));
            assertEquals(BROKEN, inspect("rollme", "{{.PreviousSpec.TaskTemplate.ContainerSpec.Image}}"));
            Eventually.await("rollme runs redis:3.0.6 in every slot again", ROLLOUT, () -> assertLiveOn(id, 3, OLD));
            awaitContainersOn("rollme", 3, OLD);
            List<Task> after = tasks(id);
            Set<Integer> touched = after.stream().filter(t -> t.runs(BROKEN)).map(Task::slot).collect(Collectors.toSet());
            assertFalse(touched.isEmpty(), describe(after));
            for (Task t : before) {
                if (!touched.contains(t.slot())) {
                    assertTrue(after.stream().anyMatch(x -> x.id().equals(t.id()) && x.live() && x.state().equals("running")),
                            "slot " + t.slot() + " never got the broken image and keeps its task " + t.id() + ": "
                                    + describe(after));
                }
            }
            awaitLs("rollme", "3/3", OLD);

            // a manual rollback of a successful update
            node.docker("service", "update", "-d", "--image", "redis:3.0.7", "undo");
            awaitUpdateState("undo", "completed");
            awaitContainersOn("undo", 2, NEW);
            CliResult rollback = node.cli().run(ATTACHED, "service", "rollback", "undo");
            rollback.ok();
            assertInOrder(rollback, "undo", "rollback: manually requested rollback",
                    "overall progress: rolling back update: 2 out of 2 tasks", "verify: Service undo converged");
            awaitUpdateState("undo", "rollback_completed");
            List<String> undoEvents = updateEvents(t0, "undo");
            String undoSid = serviceId("undo");
            assertTrue(undoEvents.contains("service update " + undoSid + " (image.new=" + OLD + ", image.old=" + NEW
                    + ", name=undo, updatestate.new=rollback_started, updatestate.old=completed)"), undoEvents.toString());
            assertTrue(undoEvents.contains("service update " + undoSid
                    + " (name=undo, updatestate.new=rollback_completed, updatestate.old=rollback_started)"), undoEvents.toString());
            assertEquals(OLD, inspect("undo", "{{.Spec.TaskTemplate.ContainerSpec.Image}}"));
            assertEquals(NEW, inspect("undo", "{{.PreviousSpec.TaskTemplate.ContainerSpec.Image}}"));
            String undoId = serviceId("undo");
            Eventually.await("undo runs redis:3.0.6 again", ROLLOUT, () -> assertLiveOn(undoId, 2, OLD));
            awaitContainersOn("undo", 2, OLD);
            List<Task> undoTasks = tasks(undoId);
            for (List<Task> slot : bySlot(undoTasks).values()) {
                assertEquals(List.of(OLD, NEW, OLD), slot.stream().map(Task::image).collect(Collectors.toList()),
                        "each slot: old, updated, rolled back: " + describe(undoTasks));
            }
        } finally {
            remove("rollme", "undo");
        }
    }

    /**
     * --update-order start-first: the replacement runs before the task it replaces is stopped, so the service never
     * has fewer running containers than replicas during the whole update.
     */
    @Test
    @Order(4)
    void startFirstNeverDropsBelowTheReplicaCount() throws Exception {
        try {
            node.docker("service", "create", "-d", "--replicas", "3", "--name", "sfirst", "--update-order", "start-first",
                    "--update-parallelism", "1", OLD);
            node.awaitRunning("sfirst", 3);
            String id = serviceId("sfirst");

            List<String> samples = new CopyOnWriteArrayList<>();
            AtomicBoolean stop = new AtomicBoolean();
            Map<String, String> labels = node.serviceLabels("sfirst");
            Thread watcher = new Thread(() -> {
                try (Engine engine = Engine.connect()) {
                    while (!stop.get()) {
                        List<Container> running = engine.containers(labels, false);
                        samples.add(Instant.now() + " " + running.size() + " " + running.stream().map(Engine::name)
                                .sorted().collect(Collectors.joining(",")));
                        Eventually.settle(Duration.ofMillis(200));
                    }
                }
            }, "start-first-watcher");
            watcher.setDaemon(true);
            watcher.start();
            CliResult update;
            try {
                update = node.cli().run(ATTACHED, "service", "update", "--image", "redis:3.0.7", "sfirst");
                awaitUpdateState("sfirst", "completed");
            } finally {
                stop.set(true);
                watcher.join(10_000);
            }
            update.ok();
            assertTrue(samples.size() > 5, "the watcher sampled the update: " + samples);
            List<String> low = samples.stream().filter(s -> Integer.parseInt(s.split(" ")[1]) < 3)
                    .collect(Collectors.toList());
            assertTrue(low.isEmpty(), "start-first: fewer than 3 running containers at " + low + "\nall samples:\n"
                    + String.join("\n", samples) + "\ntasks: " + describe(tasks(id)));

            awaitContainersOn("sfirst", 3, NEW);
            List<Task> all = tasks(id);
            for (Map.Entry<Integer, List<Task>> e : bySlot(all).entrySet()) {
                List<Task> fresh = e.getValue().stream().filter(t -> t.runs(NEW)).collect(Collectors.toList());
                List<Task> old = e.getValue().stream().filter(t -> t.runs(OLD)).collect(Collectors.toList());
                assertEquals(1, fresh.size(), "one new task in slot " + e.getKey() + ": " + describe(all));
                assertEquals(1, old.size(), describe(all));
                assertEquals("running", fresh.get(0).state(), describe(all));
                assertEquals("shutdown", old.get(0).state(), describe(all));
                assertTrue(fresh.get(0).timestamp().isBefore(old.get(0).timestamp()),
                        "start-first: slot " + e.getKey() + "'s new task ran before its old task stopped: " + describe(all));
            }
            assertLiveOn(id, 3, NEW);
        } finally {
            remove("sfirst");
        }
    }

    /** --update-parallelism 2 --update-delay 5s on 4 replicas: two batches of two, the delay between them. */
    @Test
    @Order(5)
    void parallelismReplacesInBatchesWithTheDelayBetween() {
        try {
            node.docker("service", "create", "-d", "--replicas", "4", "--name", "batches", "--update-parallelism", "2",
                    "--update-delay", "5s", OLD);
            node.awaitRunning("batches", 4);
            String id = serviceId("batches");
            assertInOrder(node.docker("service", "inspect", "--pretty", "batches"), "UpdateConfig:", "Parallelism:\\s+2",
                    "Delay:\\s+5s");

            node.cli().run(ATTACHED, "service", "update", "--image", "redis:3.0.7", "batches").ok();
            awaitUpdateState("batches", "completed");
            assertLiveOn(id, 4, NEW);
            List<Task> all = tasks(id);
            List<Task> fresh = all.stream().filter(t -> t.runs(NEW)).sorted(Comparator.comparing(Task::createdAt))
                    .collect(Collectors.toList());
            assertEquals(4, fresh.size(), "exactly one new task per slot: " + describe(all));
            assertEquals(List.of(1, 2, 3, 4), fresh.stream().map(Task::slot).sorted().collect(Collectors.toList()),
                    describe(all));
            List<Task> first = fresh.subList(0, 2);
            List<Task> second = fresh.subList(2, 4);
            // a batch is started together: its second task is created before its first one had been running for the delay
            assertTrue(first.get(1).createdAt().isBefore(first.get(0).timestamp().plusSeconds(5)),
                    "first batch created together: " + describe(fresh));
            assertTrue(second.get(1).createdAt().isBefore(second.get(0).timestamp().plusSeconds(5)),
                    "second batch created together: " + describe(fresh));
            // At most 2 in flight: the second batch starts once the first one runs, and only after the delay. (swarmkit
            // runs Parallelism workers that each wait Delay after their own task runs, so the bound is taken from the
            // first batch's earliest Running timestamp; the two are normally milliseconds apart.)
            Instant firstRan = first.stream().map(Task::timestamp).min(Comparator.naturalOrder()).orElseThrow();
            Instant allFirstRan = first.stream().map(Task::timestamp).max(Comparator.naturalOrder()).orElseThrow();
            for (Task t : second) {
                assertFalse(t.createdAt().isBefore(allFirstRan),
                        "the second batch starts after the first batch runs: " + describe(fresh));
                assertFalse(t.createdAt().isBefore(firstRan.plusSeconds(5)),
                        "second batch created at least 5 s (update-delay) after the first batch ran: " + describe(fresh));
            }
            awaitContainersOn("batches", 4, NEW);
        } finally {
            remove("batches");
        }
    }

    /**
     * kill -9 of the (single, manager) daemon in the middle of an update, started again on the same data root: the
     * update resumes and completes, every slot replaced exactly once.
     */
    @Test
    @Order(6)
    void updateSurvivesAManagerKill9() {
        assumeFalse(ItConfig.reference(), "kill -9 of the daemon needs swarmd");
        try {
            node.docker("service", "create", "-d", "--replicas", "4", "--name", "survivor", "--update-delay", "8s", OLD);
            node.awaitRunning("survivor", 4);
            String id = serviceId("survivor");
            node.docker("service", "update", "-d", "--image", "redis:3.0.7", "survivor");
            List<Task> atKill = Eventually.awaitValue("one slot of survivor replaced", ROLLOUT, () -> {
                List<Task> all = tasks(id);
                long replaced = all.stream().filter(t -> t.runs(NEW) && t.state().equals("running")).count();
                assertTrue(replaced >= 1, describe(all));
                return all;
            });
            node.kill9();
            long replacedAtKill = atKill.stream().filter(t -> t.runs(NEW)).map(Task::slot).distinct().count();
            assertTrue(replacedAtKill >= 1 && replacedAtKill <= 2, "killed with 1 or 2 slots replaced: " + describe(atKill));
            node.startAgain();

            awaitUpdateState("survivor", "completed");
            Eventually.await("survivor runs redis:3.0.7 in every slot", ROLLOUT, () -> assertLiveOn(id, 4, NEW));
            Eventually.settle(Duration.ofSeconds(5));
            List<Task> all = tasks(id);
            for (Map.Entry<Integer, List<Task>> e : bySlot(all).entrySet()) {
                List<Task> fresh = e.getValue().stream().filter(t -> t.runs(NEW)).collect(Collectors.toList());
                assertEquals(1, fresh.size(), "slot " + e.getKey() + " replaced exactly once: " + describe(all));
                for (Task t : e.getValue()) {
                    if (t.runs(OLD)) {
                        assertEquals("shutdown", t.desired(), describe(all));
                    }
                }
            }
            assertEquals(List.of(1, 2, 3, 4), new ArrayList<>(bySlot(all).keySet()), describe(all));
            assertEquals(8, all.size(), "4 old and 4 new tasks, none extra: " + describe(all));
            awaitContainersOn("survivor", 4, NEW);
            Eventually.await("no stray container of survivor", () -> {
                List<Container> containers = node.allContainers("survivor");
                assertEquals(4, containers.size(), Engine.describe(containers));
            });
            awaitLs("survivor", "4/4", NEW);
        } finally {
            remove("survivor");
        }
    }

    // ------------------------------------------------------------------ restart policies

    /** --restart-condition none and on-failure: a task that exits 0 stays Complete; on-failure restarts an exit 1. */
    @Test
    @Order(7)
    void restartConditions() {
        try {
            node.docker("service", "create", "-d", "--name", "rnone", "--restart-condition", "none",
                    "alpine", "sh", "-c", "exit 0");
            node.docker("service", "create", "-d", "--name", "rok", "--restart-condition", "on-failure",
                    "alpine", "sh", "-c", "exit 0");
            node.docker("service", "create", "-d", "--name", "rfail", "--restart-condition", "on-failure",
                    "--restart-delay", "1s", "alpine", "sh", "-c", "exit 1");
            Map<String, String> ids = new LinkedHashMap<>();
            for (String s : List.of("rnone", "rok", "rfail")) {
                ids.put(s, serviceId(s));
            }
            for (String s : List.of("rnone", "rok")) {
                Eventually.await(s + "'s task completes", () -> {
                    List<Task> all = tasks(ids.get(s));
                    assertEquals(1, all.size(), describe(all));
                    assertEquals("complete", all.get(0).state(), describe(all));
                });
            }
            Eventually.await("rfail's failed task is replaced", () -> {
                List<Task> all = tasks(ids.get("rfail"));
                assertTrue(all.size() >= 2, describe(all));
                assertEquals("failed", all.get(0).state(), describe(all));
                assertEquals("task: non-zero exit (1)", all.get(0).err(), describe(all));
                assertEquals(1, all.get(1).slot());
            });
            // longer than the default restart delay (5 s): a wrong restart would show by now
            Eventually.settle(SETTLE);
            for (String s : List.of("rnone", "rok")) {
                List<Task> all = tasks(ids.get(s));
                assertEquals(1, all.size(), s + " is not restarted: " + describe(all));
                assertEquals("complete", all.get(0).state(), describe(all));
                CliResult ps = node.docker("service", "ps", s);
                Table t = Table.parse(ps, "ID", "NAME", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR", "PORTS");
                assertEquals(List.of(s + ".1"), t.column("NAME"), ps.describe());
                assertTrue(t.rows().get(0).get("CURRENT STATE").matches("Complete .+ ago"), ps.describe());
                awaitLs(s, "0/1", "alpine:latest");
            }
            assertTrue(tasks(ids.get("rfail")).size() >= 3, "on-failure keeps restarting: " + describe(tasks(ids.get("rfail"))));
        } finally {
            remove("rnone", "rok", "rfail");
        }
    }

    /** --restart-max-attempts 2: the first task and two restarts, then nothing more. */
    @Test
    @Order(8)
    void restartMaxAttempts() {
        try {
            node.docker("service", "create", "-d", "--name", "rmax", "--restart-max-attempts", "2", "--restart-delay", "1s",
                    "alpine", "sh", "-c", "exit 1");
            String id = serviceId("rmax");
            Eventually.await("rmax has 3 failed tasks", () -> {
                List<Task> all = tasks(id);
                assertEquals(3, all.size(), describe(all));
                assertTrue(all.stream().allMatch(t -> t.state().equals("failed")), describe(all));
            });
            Eventually.settle(SETTLE);
            List<Task> all = tasks(id);
            assertEquals(3, all.size(), "no restart after the second attempt: " + describe(all));
            assertTrue(all.stream().allMatch(t -> t.slot() == 1 && t.state().equals("failed")
                    && t.desired().equals("shutdown")), describe(all));
            assertEquals(3, node.docker("service", "ps", "-q", "rmax").nonBlankLines().size());
            awaitLs("rmax", "0/1", "alpine:latest");
        } finally {
            remove("rmax");
        }
    }

    /**
     * --restart-delay 3s: each restarted task runs at least 3 s after its predecessor failed (Running timestamp vs
     * the failure's Status.Timestamp), and a crash-looping slot keeps at most TaskHistoryRetentionLimit (5) tasks.
     */
    @Test
    @Order(9)
    void restartDelayAndHistoryLimit() {
        try {
            assertEquals("5", node.docker("info", "--format",
                    "{{.Swarm.Cluster.Spec.Orchestration.TaskHistoryRetentionLimit}}").stdout().trim());
            node.docker("service", "create", "-d", "--name", "rdelay", "--restart-delay", "3s",
                    "alpine", "sh", "-c", "sleep 2; exit 1");
            node.docker("service", "create", "-d", "--name", "rloop", "--restart-delay", "1s",
                    "alpine", "sh", "-c", "exit 1");
            String delayId = serviceId("rdelay");
            String loopId = serviceId("rloop");

            // Running timestamps are only visible while a task runs: poll, and keep what was seen.
            Map<String, Instant> runningAt = new ConcurrentHashMap<>();
            Map<String, Task> lastSeen = new ConcurrentHashMap<>();
            Set<String> loopSeen = Collections.synchronizedSet(new HashSet<>());
            List<Integer> loopPsRows = new CopyOnWriteArrayList<>();
            Eventually.await("3 restarts of rdelay seen running, 8 tasks of rloop seen", ROLLOUT, () -> {
                for (Task t : tasks(delayId)) {
                    lastSeen.put(t.id(), t);
                    if (t.state().equals("running")) {
                        runningAt.putIfAbsent(t.id(), t.timestamp());
                    }
                }
                for (Task t : tasks(loopId)) {
                    loopSeen.add(t.id());
                }
                loopPsRows.add(node.docker("service", "ps", "-q", "rloop").nonBlankLines().size());
                List<Task> checked = restartsSeenRunning(lastSeen, runningAt);
                assertTrue(checked.size() >= 3, "restarted tasks seen running: " + describe(checked));
                assertTrue(loopSeen.size() >= 8, "rloop tasks seen: " + loopSeen.size());
            });
            List<Task> ordered = lastSeen.values().stream().sorted(Comparator.comparing(Task::createdAt))
                    .collect(Collectors.toList());
            for (int i = 1; i < ordered.size(); i++) {
                Task prev = ordered.get(i - 1);
                Task next = ordered.get(i);
                Instant ran = runningAt.get(next.id());
                if (ran == null || !prev.state().equals("failed")) {
                    continue;
                }
                assertFalse(next.createdAt().isBefore(prev.timestamp().minusMillis(1)),
                        "a restart is created once its predecessor failed: " + describe(ordered));
                assertFalse(ran.isBefore(prev.timestamp().plusSeconds(3)), next.id() + " ran at " + ran
                        + ", less than 3 s after " + prev.id() + " failed: " + describe(ordered));
            }

            // history: never more than 5 tasks of the crash-looping slot once trimmed
            Eventually.await("service ps rloop shows 5 tasks", () -> {
                CliResult ps = node.docker("service", "ps", "rloop");
                Table t = Table.parse(ps, "ID", "NAME", "IMAGE", "NODE", "DESIRED STATE", "CURRENT STATE", "ERROR", "PORTS");
                assertEquals(5, t.size(), ps.describe());
                assertEquals(List.of("rloop.1", "\\_ rloop.1", "\\_ rloop.1", "\\_ rloop.1", "\\_ rloop.1"),
                        t.column("NAME"), ps.describe());
            });
            for (int i = 0; i < 5; i++) {
                int rows = node.docker("service", "ps", "-q", "rloop").nonBlankLines().size();
                loopPsRows.add(rows);
                Eventually.settle(Duration.ofMillis(700));
            }
            assertTrue(loopPsRows.stream().allMatch(n -> n <= 5), "service ps rloop row counts seen: " + loopPsRows);
            assertTrue(tasks(loopId).size() <= 5, describe(tasks(loopId)));
        } finally {
            remove("rdelay", "rloop");
        }
    }

    /** The tasks seen running whose predecessor (by creation) in the slot was seen failed. */
    static List<Task> restartsSeenRunning(Map<String, Task> lastSeen, Map<String, Instant> runningAt) {
        List<Task> ordered = lastSeen.values().stream().sorted(Comparator.comparing(Task::createdAt))
                .collect(Collectors.toList());
        List<Task> out = new ArrayList<>();
        for (int i = 1; i < ordered.size(); i++) {
            if (runningAt.containsKey(ordered.get(i).id()) && ordered.get(i - 1).state().equals("failed")) {
                out.add(ordered.get(i));
            }
        }
        return out;
    }
}
