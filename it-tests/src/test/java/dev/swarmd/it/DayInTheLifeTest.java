package dev.swarmd.it;

import static dev.swarmd.it.MultiNode.assertSlotsOnce;
import static dev.swarmd.it.MultiNode.awaitCounts;
import static dev.swarmd.it.MultiNode.awaitStatus;
import static dev.swarmd.it.MultiNode.expect;
import static dev.swarmd.it.MultiNode.printedJoinCommand;
import static dev.swarmd.it.RollingUpdateTest.BROKEN;
import static dev.swarmd.it.RollingUpdateTest.NEW;
import static dev.swarmd.it.RollingUpdateTest.OLD;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.dockerjava.api.model.Container;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A day in the life of a three-node swarm (manager 127.0.0.51 it-day-mgr, workers 127.0.0.52 it-day-w1 and
 * 127.0.0.53 it-day-w2), typed with the stock CLI: init and two joins, a replicated and a global service, a scale, an
 * image update with an update delay, an update that pauses on a failing image, `docker service rollback`, a worker
 * drained and made active again, a worker killed with kill -9 (Down, its tasks rescheduled), the services removed.
 *
 * <p>Then what the journal tells of that day: `docker events --since --until` with filters prints Docker's lines;
 * with the manager killed, `swarmd audit` of its data root gives every change its cause; `swarmd audit verify` finds
 * the chain intact, and names the event a changed byte belongs to; the manager, restarted on a longer history, comes
 * back with its services and nodes.
 */
class DayInTheLifeTest {
    static final ObjectMapper JSON = new ObjectMapper();
    /** Label updates of a service after the day: cheap journal events (one each, no task changes) for a longer history. */
    static final int HISTORY = 500;
    /** The cause of an API call made by the CLI, as the audit shows it: client address and user agent. */
    static final String API = "api 127\\.0\\.0\\.1 \\(Docker-Client/.+\\): ";

    static TestNode mgr;
    static TestNode w1;
    static TestNode w2;
    static List<TestNode> nodes = List.of();
    static Engine engine;

    /** The IDs of the day's two services. */
    record Day(String web, String mon) {}

    @BeforeAll
    static void startSwarm() {
        assumeFalse(ItConfig.reference(), "several swarmd processes, kill -9 and the journal: no reference mode");
        nodes = TestNode.startAll(List.of("day-mgr", "day-w1", "day-w2"), List.of(51, 52, 53));
        mgr = nodes.get(0);
        w1 = nodes.get(1);
        w2 = nodes.get(2);
        engine = Engine.connect();
        TestImages.requireOurs(engine, OLD, NEW, BROKEN);
    }

    @AfterAll
    static void stopSwarm() {
        TestNode.closeAll(nodes);
        if (engine != null) {
            engine.close();
        }
    }

    @Test
    void aDayOfTheSwarmIsToldByDockerEventsAndByTheJournalOfItsStoppedManager() throws Exception {
        Instant t0 = Instant.now();
        Day day = liveTheDay();
        Instant t1 = Instant.now();
        assertDockerEventsTellTheDay(day, AuditTest.epoch(t0), AuditTest.epoch(t1));

        writeLongHistory();
        String before = awaitHistoryRunning();
        mgr.kill9();
        Path root = mgr.daemon().dataRoot();
        List<String[]> audit = auditRows(root);
        assertEveryChangeHasItsCause(day, audit);
        long events = assertJournalIntact(root);
        assertChangedByteIsFound(root, index(row(audit, "service", "update", day.web(), "web", API
                + "POST /services/" + day.web() + "/update", "image.new=" + NEW + ", image.old=" + OLD)));
        restartOnTheLongHistory(before, events);
    }

    // ------------------------------------------------------------------ the day

    static Day liveTheDay() {
        mgr.swarmInit().ok();
        List<String> join = printedJoinCommand(mgr);
        // one join at a time: each worker's create and ready events come before the next one's
        for (TestNode w : List.of(w1, w2)) {
            w.swarmJoin(join).ok();
            awaitStatus(mgr, w, "Ready");
        }

        mgr.docker("service", "create", "-d", "--name", "web", "--replicas", "2", OLD);
        mgr.docker(MultiNode.create("mon", "--mode", "global"));
        Day day = new Day(serviceId("web"), serviceId("mon"));
        awaitWeb(2, OLD, nodes);
        awaitCounts(engine, "mon", nodes, expect(mgr.hostname(), 1, w1.hostname(), 1, w2.hostname(), 1));

        mgr.docker("service", "scale", "-d", "web=4");
        awaitWeb(4, OLD, nodes);

        mgr.docker("service", "update", "-d", "--update-delay", "1s", "--image", NEW, "web");
        awaitUpdateState("web", "completed");
        awaitWeb(4, NEW, nodes);

        mgr.docker("service", "update", "-d", "--update-failure-action", "pause", "--image", BROKEN, "web");
        awaitUpdateState("web", "paused");
        mgr.docker("service", "rollback", "-d", "web");
        awaitUpdateState("web", "rollback_completed");
        awaitWeb(4, NEW, nodes);

        mgr.docker("node", "update", "--availability", "drain", w1.nodeId());
        awaitCounts(engine, "mon", nodes, expect(mgr.hostname(), 1, w1.hostname(), 0, w2.hostname(), 1));
        awaitWeb(4, NEW, List.of(mgr, w2));
        mgr.docker("node", "update", "--availability", "active", w1.nodeId());
        awaitCounts(engine, "mon", nodes, expect(mgr.hostname(), 1, w1.hostname(), 1, w2.hostname(), 1));

        w2.kill9();
        awaitStatus(mgr, w2, "Down");
        // w2's containers keep running on the engine, unknown to the swarm: what counts is where tasks are wanted
        awaitWeb(4, NEW, List.of(mgr, w1));
        awaitDesiredRunningOnlyOn("web", 4, List.of(mgr, w1));
        awaitDesiredRunningOnlyOn("mon", 2, List.of(mgr, w1));

        mgr.docker("service", "rm", "web", "mon");
        for (String s : List.of("web", "mon")) {
            Eventually.await("no container of " + s + " left on the live nodes", () -> {
                List<Container> left = MultiNode.all(engine, s, List.of(mgr, w1));
                assertTrue(left.isEmpty(), Engine.describe(left));
            });
        }
        return day;
    }

    static String serviceId(String service) {
        return mgr.docker("service", "inspect", "--format", "{{.ID}}", service).stdout().trim();
    }

    static void awaitUpdateState(String service, String state) {
        Eventually.await("UpdateStatus.State of " + service + " is " + state, RollingUpdateTest.ROLLOUT, () ->
                assertEquals(state, mgr.docker("service", "inspect", "--format", "{{.UpdateStatus.State}}", service)
                        .stdout().trim()));
    }

    /** Waits until web runs one container per slot 1..n on the given nodes, all of them on image. */
    static void awaitWeb(int n, String image, List<TestNode> on) {
        Eventually.await("web runs " + n + " containers of " + image + " on " + hostnames(on), RollingUpdateTest.ROLLOUT,
                () -> {
                    List<Container> running = MultiNode.running(engine, "web", on);
                    assertSlotsOnce(running, n);
                    for (Container c : running) {
                        assertEquals(image, c.getImage(), Engine.describe(running));
                    }
                });
    }

    /** The manager wants n tasks of the service running, all on the given nodes (a down node's are shut down). */
    static void awaitDesiredRunningOnlyOn(String service, int n, List<TestNode> on) {
        Eventually.await(n + " tasks of " + service + " desired running, on " + hostnames(on), () -> {
            CliResult ps = mgr.docker("service", "ps", "--filter", "desired-state=running", "--format", "{{.Node}}",
                    service);
            assertEquals(n, ps.nonBlankLines().size(), ps.describe());
            assertTrue(hostnames(on).containsAll(ps.nonBlankLines()), ps.describe());
        });
    }

    static List<String> hostnames(List<TestNode> list) {
        return list.stream().map(TestNode::hostname).collect(Collectors.toList());
    }

    // ------------------------------------------------------------------ docker events

    /**
     * The service and node lines are exactly Docker's for the day (checked against moby's logServiceEvent and
     * logNodeEvent): updatestate.old only when there was another state, and an API update clears the update status,
     * so each update starts at "updating" with no old state. Container lines depend on placement and on how far the
     * failing update got before it paused, so only the global service's, one per node and its return to w1, are
     * checked.
     */
    static void assertDockerEventsTellTheDay(Day day, String since, String until) {
        String web = day.web();
        String mon = day.mon();
        assertEquals(List.of(
                "service create " + web + " (name=web)",
                "service create " + mon + " (name=mon)",
                "service update " + web + " (name=web, replicas.new=4, replicas.old=2)",
                "service update " + web + " (image.new=redis:3.0.7, image.old=redis:3.0.6, name=web)",
                "service update " + web + " (name=web, updatestate.new=updating)",
                "service update " + web + " (name=web, updatestate.new=completed, updatestate.old=updating)",
                "service update " + web + " (image.new=swarmd-test/broken:latest, image.old=redis:3.0.7, name=web)",
                "service update " + web + " (name=web, updatestate.new=updating)",
                "service update " + web + " (name=web, updatestate.new=paused, updatestate.old=updating)",
                "service update " + web + " (image.new=redis:3.0.7, image.old=swarmd-test/broken:latest, name=web,"
                        + " updatestate.new=rollback_started, updatestate.old=paused)",
                "service update " + web + " (name=web, updatestate.new=rollback_completed,"
                        + " updatestate.old=rollback_started)",
                "service remove " + web + " (name=web)",
                "service remove " + mon + " (name=mon)"), AuditTest.events(mgr, since, until, "type=service"));

        String m = mgr.nodeId();
        String a = w1.nodeId();
        String b = w2.nodeId();
        assertEquals(List.of(
                "node create " + m + " (name=it-day-mgr)",
                "node create " + a + " (name=it-day-w1)",
                "node update " + a + " (name=it-day-w1, state.new=ready, state.old=unknown)",
                "node create " + b + " (name=it-day-w2)",
                "node update " + b + " (name=it-day-w2, state.new=ready, state.old=unknown)",
                "node update " + a + " (availability.new=drain, availability.old=active, name=it-day-w1)",
                "node update " + a + " (availability.new=active, availability.old=drain, name=it-day-w1)",
                "node update " + b + " (name=it-day-w2, state.new=down, state.old=ready)"),
                AuditTest.events(mgr, since, until, "type=node"));

        // service= also matches the service's containers, which event= then leaves out
        List<String> webUpdates = AuditTest.events(mgr, since, until, "type=service").stream()
                .filter(l -> l.startsWith("service update " + web + " ")).collect(Collectors.toList());
        assertEquals(webUpdates, AuditTest.events(mgr, since, until, "service=web", "event=update"));
        assertEquals(List.of("service create " + mon + " (name=mon)", "service remove " + mon + " (name=mon)"),
                AuditTest.events(mgr, since, until, "service=mon", "event=create", "event=remove"));

        List<String> monStarts = AuditTest.events(mgr, since, until, "service=mon", "event=start");
        List<String> startedOn = monStarts.stream().map(DayInTheLifeTest::nodeOf).collect(Collectors.toList());
        assertEquals(List.of(a, a, b, m).stream().sorted().collect(Collectors.toList()),
                startedOn.stream().sorted().collect(Collectors.toList()), "mon on every node, again on w1: " + monStarts);
        assertEquals(a, startedOn.get(startedOn.size() - 1), "the last mon start is w1's, active again: " + monStarts);
    }

    /** The node ID of a container event line. */
    static String nodeOf(String containerEvent) {
        Matcher n = Pattern.compile("com\\.docker\\.swarm\\.node\\.id=([0-9a-z]+)").matcher(containerEvent);
        assertTrue(n.find(), containerEvent);
        return n.group(1);
    }

    // ------------------------------------------------------------------ the journal

    /** HISTORY label updates of a new service through the API, each one journal event. */
    static void writeLongHistory() throws IOException {
        mgr.docker(MultiNode.create("hist", "--replicas", "2"));
        String id = serviceId("hist");
        for (int i = 1; i <= HISTORY; i++) {
            JsonNode service = JSON.readTree(mgr.raw().get(TestNode.API + "/services/" + id).body());
            ObjectNode spec = (ObjectNode) service.path("Spec");
            spec.putObject("Labels").put("round", String.valueOf(i));
            RawHttp.Response r = mgr.raw().postJson(TestNode.API + "/services/" + id + "/update?version="
                    + service.path("Version").path("Index").asLong(), spec.toString());
            assertEquals(200, r.status(), r.toString());
        }
    }

    /** Waits until hist runs 2/2; returns the swarm's state then. */
    static String awaitHistoryRunning() {
        return Eventually.awaitValue("hist runs 2/2", () -> {
            String state = swarmState();
            assertTrue(state.contains(" hist replicated 2/2 "), state);
            return state;
        });
    }

    /** What a restarted manager must show again: the services, hist's version and last label, the nodes. */
    static String swarmState() {
        return mgr.docker("service", "ls", "--format", "{{.ID}} {{.Name}} {{.Mode}} {{.Replicas}} {{.Image}}").stdout()
                + mgr.docker("service", "inspect", "--format", "{{.ID}} {{.Version.Index}} {{json .Spec.Labels}}",
                        "hist").stdout()
                + mgr.docker("node", "ls", "--format", "{{.ID}} {{.Hostname}} {{.Status}} {{.Availability}}"
                        + " {{.ManagerStatus}}").stdout();
    }

    /** `swarmd audit` of the data root: its table's rows, split into their cells, after the header is checked. */
    static List<String[]> auditRows(Path root) throws IOException, InterruptedException {
        List<String> table = AuditTest.audit(root);
        assertEquals("TIME\tINDEX\tTYPE\tACTION\tID\tNAME\tCAUSE\tCHANGES", table.get(0));
        List<String[]> rows = new ArrayList<>();
        for (String line : table.subList(1, table.size())) {
            String[] cells = line.split("\t", -1);
            assertEquals(8, cells.length, line);
            rows.add(cells);
        }
        return rows;
    }

    /**
     * Every row has a cause, and each kind of cause the day had is there: API calls with the client's address and
     * the endpoint, swarm init, a join, membership (a node up, a node down), the agents' reports of their containers,
     * and the orchestrator's update steps, pause, completions and removals; and, in the audit's task rows, the
     * scheduler's placements, the update's replacements, the drain, the node down, the restart policy.
     */
    static void assertEveryChangeHasItsCause(Day day, List<String[]> rows) {
        for (String[] r : rows) {
            assertFalse(r[6].isBlank(), "a row without a cause: " + String.join("\t", r));
            // a container starts and dies as the agent of its node reported it
            if (r[2].equals("container") && !r[3].equals("destroy")) {
                assertTrue(r[6].startsWith("agent " + nodeOf(r[7]) + ": "), String.join("\t", r));
            }
        }
        String web = day.web();
        String m = mgr.nodeId();
        String a = w1.nodeId();
        String b = w2.nodeId();
        row(rows, "swarm", "create", "[0-9a-z]{25}", "default", "swarm init: node " + m, "");
        row(rows, "node", "create", a, "it-day-w1", "join: worker it-day-w1 at 127\\.0\\.0\\.52", "");
        row(rows, "node", "update", a, "it-day-w1", "membership: member up", "state.new=ready, state.old=unknown");
        row(rows, "node", "update", b, "it-day-w2", "membership: member gone", "state.new=down, state.old=ready");
        row(rows, "service", "create", web, "web", API + "POST /services/create", "");
        row(rows, "service", "update", web, "web", API + "POST /services/" + web + "/update",
                "replicas.new=4, replicas.old=2");
        row(rows, "service", "update", web, "web", "orchestrator: spec changed", "updatestate.new=updating");
        row(rows, "service", "update", web, "web", "orchestrator: tasks current",
                "updatestate.new=completed, updatestate.old=updating");
        row(rows, "service", "update", web, "web", "orchestrator: task [0-9a-z]{25} of the new spec failed",
                "updatestate.new=paused, updatestate.old=updating");
        row(rows, "service", "update", web, "web", API + "POST /services/" + web + "/update", "image.new=redis:3.0.7,"
                + " image.old=swarmd-test/broken:latest, updatestate.new=rollback_started, updatestate.old=paused");
        row(rows, "service", "update", web, "web", "orchestrator: tasks current",
                "updatestate.new=rollback_completed, updatestate.old=rollback_started");
        row(rows, "node", "update", a, "it-day-w1", API + "POST /nodes/" + a + "/update",
                "availability.new=drain, availability.old=active");
        row(rows, "service", "remove", web, "web", API + "DELETE /services/web", "");
        row(rows, "container", "start", "[0-9a-f]{64}", "web\\.[1-4]\\.[0-9a-z]{25}", "agent [0-9a-z]{25}: started",
                ".*");
        // stopped on purpose, it still dies with its exit code, as Docker's die events always carry one
        row(rows, "container", "die", "[0-9a-f]{64}", "mon\\." + a + "\\.[0-9a-z]{25}", "agent " + a + ": shutdown",
                ".*exitCode=[0-9]+.*");
        row(rows, "container", "destroy", "[0-9a-f]{64}", "web\\.[1-4]\\.[0-9a-z]{25}", "orchestrator: service removed",
                ".*");
        String task = "[0-9a-z]{25}";
        String webTask = "web\\.[1-4]";
        row(rows, "task", "create", task, webTask, "orchestrator: reconcile: slot has no task",
                ".*state\\.new=pending.*");
        row(rows, "task", "assign", task, webTask, "scheduler: placement", ".*state\\.new=assigned.*");
        row(rows, "task", "update", task, webTask, "orchestrator: service updated",
                ".*desiredstate\\.new=shutdown.*");
        row(rows, "task", "update", task, "(web\\.[1-4]|mon\\." + a + ")", "orchestrator: node drained", ".*");
        row(rows, "task", "update", task, "(web\\.[1-4]|mon\\." + b + ")", "orchestrator: node down", ".*");
        row(rows, "task", "update", task, webTask, "agent " + task + ": task: non-zero exit \\(1\\)",
                ".*state\\.new=failed.*");
        row(rows, "task", "create", task, webTask, "orchestrator: restart policy: task " + task + " failed", ".*");
    }

    /** The first audit row whose cells match the given patterns (cells but TIME and INDEX), or a failure. */
    static String[] row(List<String[]> rows, String type, String action, String id, String name, String cause,
            String changes) {
        List<String> want = List.of(type, action, id, name, cause, changes);
        return rows.stream().filter(r -> {
            for (int i = 0; i < want.size(); i++) {
                if (!r[i + 2].matches(want.get(i))) {
                    return false;
                }
            }
            return true;
        }).findFirst().orElseThrow(() -> new AssertionError("no audit row matches " + want + " in\n"
                + rows.stream().map(r -> String.join("\t", r)).collect(Collectors.joining("\n"))));
    }

    static long index(String[] row) {
        return Long.parseLong(row[1]);
    }

    /** `swarmd audit verify`: every event of the journal is in the chain, from index 1; returns how many. */
    static long assertJournalIntact(Path root) throws IOException, InterruptedException {
        String verified = AuditTest.audit(root, 0, "verify").get(0);
        Matcher intact = Pattern.compile("journal intact: (\\d+) events checked \\(0 from before the chain\\), head index"
                + " (\\d+), head link [0-9a-f]{64} \\(\\d+ ms\\)").matcher(verified);
        assertTrue(intact.matches(), verified);
        assertEquals(intact.group(1), intact.group(2), "one event per Version.Index: " + verified);
        return Long.parseLong(intact.group(1));
    }

    /**
     * On a copy of the journal (the node is restarted on the original next), one byte of the day's image update
     * changed, same length: verify exits 1 and the chain checks out exactly up to the event before it. (LevelDB
     * checks each record's CRC first: opening the copy drops the altered record and the rest of its 32 KB block, so
     * verify names the first event after them, with missing events as the reason, not the altered one.)
     */
    static void assertChangedByteIsFound(Path root, long imageUpdate) throws IOException, InterruptedException {
        Path copy = copyOfJournal(root);
        AuditTest.tamper(copy.resolve("swarm").resolve("journal"), NEW, "redis:3.0.8");
        List<String> broken = AuditTest.audit(copy, 1, "verify");
        Matcher at = Pattern.compile("journal broken at index (\\d+) .+").matcher(broken.get(0));
        assertTrue(at.matches() && Long.parseLong(at.group(1)) >= imageUpdate, broken.toString());
        assertEquals("the " + (imageUpdate - 1) + " events before it check out, up to index " + (imageUpdate - 1),
                broken.get(1));
    }

    /** A data root holding a copy of root's journal files, which is all `swarmd audit` reads. */
    static Path copyOfJournal(Path root) throws IOException {
        Path copy = Files.createTempDirectory(ItConfig.workDir(), "tampered-");
        Path from = root.resolve("swarm").resolve("journal");
        Path to = Files.createDirectories(copy.resolve("swarm").resolve("journal"));
        try (var files = Files.list(from)) {
            for (Path f : files.collect(Collectors.toList())) {
                Files.copy(f, to.resolve(f.getFileName()));
            }
        }
        return copy;
    }

    /**
     * The manager started again on its data root: prints (no timed assertion) how long until `docker service ls`
     * answers, with the daemon's own replay figure, then waits for the state it had.
     */
    static void restartOnTheLongHistory(String before, long events) throws IOException {
        long start = System.nanoTime();
        mgr.startAgain();
        Eventually.await("docker service ls answers", () -> mgr.docker("service", "ls"));
        long ms = (System.nanoTime() - start) / 1_000_000;
        System.out.println("[it-tests] DayInTheLifeTest: manager restarted on a journal of " + events + " events:"
                + " `docker service ls` answered after " + ms + " ms; " + lastReplay());
        Eventually.await("the manager is back with its services and nodes", () -> assertEquals(before, swarmState()));
    }

    /** The daemon's last "journal replayed: ..." log line. */
    static String lastReplay() throws IOException {
        List<String> replays = Files.readAllLines(mgr.daemon().logFile()).stream()
                .filter(l -> l.contains("journal replayed: ")).collect(Collectors.toList());
        return replays.isEmpty() ? "no replay logged" : replays.get(replays.size() - 1);
    }
}
