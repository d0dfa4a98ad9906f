package dev.swarmd.it;

import static dev.swarmd.it.MultiNode.assertSlotsOnce;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.swarmd.it.history.Applied;
import dev.swarmd.it.history.HistoryChecker;
import dev.swarmd.it.history.HistoryRecorder;
import dev.swarmd.it.history.Journal;
import dev.swarmd.it.history.Op;
import dev.swarmd.it.history.Outcome;
import dev.swarmd.it.history.Result;
import dev.swarmd.it.history.Violation;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A fault history, in the manner of Jepsen: three managers keep taking versioned service updates while they are
 * killed, frozen and cut off, and afterwards every manager's journal must tell what the clients saw.
 *
 * <p>Three managers, 127.0.0.85 (it-fh-m1, init), .86 (it-fh-m2) and .87 (it-fh-m3), the last two joined with the
 * command `docker swarm join-token manager` prints, run two services, fh-a and fh-b, two replicas each. Then come the
 * rounds ({@code -Dswarmd.faultRounds}, default 32), each with the next fault of a fixed cycle: the leader killed with
 * kill -9 and started again 5 s later on its data root; a follower, the same; the leader frozen with SIGSTOP for 15 s;
 * the leader cut off from the two other managers (their cluster and Raft ports, both ways) for 10 s. From a second
 * before each fault until 3 s after it is healed, four clients loop: read a service through a random manager, then
 * send it back through a random manager as a compare-and-set ({@code POST /services/{id}/update?version=N}) that sets
 * the label {@code fh.op} to a value of its own. Every update is recorded: 200 acknowledged; 4xx, or Docker's 500
 * "update out of sequence", failed (the service refused it); anything else, a timeout or a refused connection
 * included, unknown. Between rounds the managers agree again on one leader and on the services' versions.
 *
 * <p>At the end each slot of each service runs exactly one container, and each manager's journal, read with {@code
 * swarmd audit --json} and checked with {@code swarmd audit verify} once the managers have stopped, is checked against
 * the history ({@link HistoryChecker}): acknowledged updates applied once, failed ones never, unknown ones at most once,
 * each on the very version it was sent with, in an order the clients' real time allows; and the three journals tell
 * the same history.
 *
 * <p>An audit entry does not carry the spec, so an update is found in the journal by its cause: each client also sends
 * its label as its User-Agent ({@code fault-history/<label>}), which the audit tells as the cause's actor ({@code api
 * 127.0.0.1 (fault-history/<label>)}); the label left in each service's spec is checked against the journal's last
 * labelled entry.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultHistoryTest {
    static final int ROUNDS = Integer.getInteger("swarmd.faultRounds", 30);
    /** Seeds the choice of followers to kill and the clients' choices, so that a run can be told again. */
    static final long SEED = Long.getLong("swarmd.faultSeed", 20261207L);
    static final List<Integer> ADDRESSES = List.of(85, 86, 87);
    static final List<String> SERVICES = List.of("fh-a", "fh-b");
    static final int REPLICAS = 2;
    static final int CLIENTS = 4;
    static final String LABEL = "fh.op";
    static final String AGENT = "fault-history/";
    static final Pattern AGENT_LABEL = Pattern.compile("\\(" + Pattern.quote(AGENT) + "([A-Za-z0-9.-]+)\\)");
    static final List<Integer> MANAGER_PORTS = List.of(Iptables.CLUSTER_PORT, Iptables.RAFT_PORT);

    static final Duration CLIENTS_BEFORE = Duration.ofSeconds(1);
    static final Duration CLIENTS_AFTER = Duration.ofSeconds(3);
    static final Duration KILLED_FOR = Duration.ofSeconds(3);
    static final Duration FROZEN_FOR = Duration.ofSeconds(15);
    static final Duration CUT_FOR = Duration.ofSeconds(10);
    /** How often the cut-off leader's new connections are looked for while the partition holds. */
    static final Duration CUT_POLL = Duration.ofMillis(200);
    static final Duration HTTP_TIMEOUT = Duration.ofSeconds(10);
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    static final Duration CLIENT_PAUSE = Duration.ofMillis(50);
    /** Generous: a cut-off or frozen manager rejoins, and everything shares two cores. */
    static final Duration CALM = Duration.ofSeconds(300);
    /** Time given to a returning node to do something wrong (run a stale task beside its replacement). */
    static final Duration SETTLE = Duration.ofSeconds(5);
    static final Path SUMMARY = ItConfig.logDir().resolve("fault-history-summary.txt");
    static final ObjectMapper JSON = new ObjectMapper();
    /** `swarmd audit verify`'s last line on an intact journal. */
    static final Pattern INTACT = Pattern.compile("journal intact: (\\d+) events checked \\((\\d+) from before the "
            + "chain\\), head index (\\d+), head link ([0-9a-f]+) \\(\\d+ ms\\)");

    enum Fault {
        KILL_LEADER("kill -9 of the leader"),
        KILL_FOLLOWER("kill -9 of a follower"),
        FREEZE_LEADER("SIGSTOP of the leader"),
        CUT_OFF_LEADER("leader cut off");

        final String what;

        Fault(String what) {
            this.what = what;
        }
    }

    /** The faults the rounds cycle through: all by default, or those named in swarmd.faults (to chase one). */
    static final List<Fault> FAULTS = Optional.ofNullable(System.getProperty("swarmd.faults"))
            .map(names -> Arrays.stream(names.split(",")).map(String::trim).map(Fault::valueOf).toList())
            .orElse(List.of(Fault.values()));

    static List<TestNode> managers = new ArrayList<>();
    static Engine engine;
    static final Map<String, String> serviceIds = new LinkedHashMap<>();
    static final HistoryRecorder history = new HistoryRecorder();
    static final Random random = new Random(SEED);
    static int roundsRun;
    static boolean managersStopped;

    @BeforeAll
    static void threeManagersRunTwoServices() throws IOException {
        assumeFalse(ItConfig.reference(), "several swarmd processes on one engine: no reference mode");
        String reason = Iptables.unavailableReason();
        assumeTrue(reason == null, "iptables is not usable here, no partitions: " + reason);
        assumeTrue(Host.run("ss", "-V").ok(), "ss (iproute2) finds the cut-off leader's own connections; it is missing");
        for (int n : ADDRESSES) {
            Iptables.removeLeftovers("127.0.0." + n);
        }
        Files.writeString(SUMMARY, "", StandardCharsets.UTF_8);
        say("fault history: " + ROUNDS + " rounds, seed " + SEED + ", managers 127.0.0.85-87, services " + SERVICES);

        managers = TestNode.startAll(List.of("fh-m1", "fh-m2", "fh-m3"), ADDRESSES);
        engine = Engine.connect();
        TestNode m1 = managers.get(0);
        m1.swarmInit().ok();
        List<String> join = printedManagerJoin(m1);
        for (TestNode m : managers.subList(1, managers.size())) {
            Lines.assertInOrder(m.swarmJoin(join).ok(), "This node joined a swarm as a manager\\.");
        }
        awaitCalm("once the managers joined");
        for (String service : SERVICES) {
            m1.docker(MultiNode.create(service, "--replicas", Integer.toString(REPLICAS)));
            serviceIds.put(service, m1.docker("service", "inspect", "--format", "{{.ID}}", service).stdout().trim());
        }
        for (String service : SERVICES) {
            Eventually.await(service + " runs " + REPLICAS + " containers, one per slot", () ->
                    assertSlotsOnce(MultiNode.running(engine, service, managers), REPLICAS));
        }
    }

    /** Never leaves a daemon frozen or a rule in place, whatever failed. */
    @AfterEach
    void thawAndHeal() {
        thawAll();
        Iptables.healAll();
    }

    @AfterAll
    static void stopManagers() {
        try {
            thawAll();
            Iptables.healAll();
        } finally {
            if (!managersStopped) {
                TestNode.closeAll(managers);
            }
            if (engine != null) {
                engine.close();
            }
        }
    }

    static void thawAll() {
        for (TestNode m : managers) {
            try {
                m.sigcont();
            } catch (RuntimeException e) {
                System.err.println("[fault-history] SIGCONT of " + m.hostname() + " failed: " + e);
            }
        }
    }

    @Test
    @Order(1)
    void updatesGoOnWhileTheLeaderIsKilledFrozenAndCutOffAndAFollowerKilled() {
        for (int round = 1; round <= ROUNDS; round++) {
            runRound(round);
            roundsRun = round;
        }
    }

    @Test
    @Order(2)
    void afterTheFaultsEachSlotRunsExactlyOnce() {
        assumeTrue(roundsRun > 0, "no round ran");
        awaitCalm("before counting the containers");
        // A killed manager's containers kept running on the shared engine, and a frozen or cut-off one's were
        // replaced elsewhere meanwhile: each must be gone or adopted once its node is back.
        for (String service : SERVICES) {
            Eventually.await(service + " runs one container in each of slots 1.." + REPLICAS + " over the three nodes",
                    CALM, () -> assertSlotsOnce(MultiNode.running(engine, service, managers), REPLICAS));
        }
        Eventually.settle(SETTLE);
        for (String service : SERVICES) {
            assertSlotsOnce(MultiNode.running(engine, service, managers), REPLICAS);
        }
    }

    @Test
    @Order(3)
    void everyManagersJournalTellsTheClientsHistoryAndTheSameOne() throws Exception {
        assumeTrue(roundsRun > 0, "no round ran");
        awaitCalm("after the last round");
        Map<String, String> finalLabels = new TreeMap<>();
        for (String service : SERVICES) {
            JsonNode s = getJson(managers.get(0), "/services/" + serviceIds.get(service));
            JsonNode label = s.path("Spec").path("Labels").path(LABEL);
            finalLabels.put(service, label.isTextual() ? label.asText() : null);
        }
        // Running and quiet, the three journals end at the same link after the same number of events.
        Map<String, Head> running = Eventually.awaitValue("the three running managers' journals verified, "
                + "with the same number of events and the same head", CALM, () -> {
                    Map<String, Head> heads = new TreeMap<>();
                    for (TestNode m : managers) {
                        heads.put(m.hostname(), verify(m));
                    }
                    assertEquals(1, new HashSet<>(heads.values()).size(), "the managers' journals differ: " + heads);
                    return heads;
                });
        Head head = running.values().iterator().next();
        say("journals of the running managers: " + head);

        TestNode.closeAll(managers);
        managersStopped = true;
        Map<String, Journal> journals = new TreeMap<>();
        Map<String, List<String>> upToHead = new TreeMap<>();
        for (TestNode m : managers) {
            Head stopped = verify(m);
            say("journal of the stopped " + m.hostname() + ": " + stopped);
            assertTrue(stopped.index() >= head.index() && stopped.events() >= head.events(),
                    m.hostname() + "'s journal lost events when it stopped: " + stopped + ", running: " + head);
            List<String> entries = AuditTest.audit(m.daemon().dataRoot(), "--json");
            List<JsonNode> parsed = new ArrayList<>();
            List<String> prefix = new ArrayList<>();
            for (String line : entries) {
                JsonNode e = JSON.readTree(line);
                parsed.add(e);
                if (e.path("index").asLong() <= head.index()) {
                    prefix.add(line);
                }
            }
            upToHead.put(m.hostname(), prefix);
            journals.put(m.hostname(), journalOf(parsed, serviceIds));
        }

        List<Op> ops = history.ops();
        Journal m1 = journals.get(managers.get(0).hostname());
        Result result = HistoryChecker.check(ops, m1);
        say("history checked against " + managers.get(0).hostname() + "'s journal: " + result.describe());
        for (String service : SERVICES) {
            say(service + ": " + m1.of(service).size() + " journal entries, version "
                    + (m1.of(service).isEmpty() ? "none" : m1.of(service).get(m1.of(service).size() - 1).version()));
        }
        assertTrue(result.passed(), result.describe());
        assertTrue(result.acknowledged() > 0, "no update was acknowledged at all: " + result.describe());
        List<Violation> differ = HistoryChecker.compareManagers(journals);
        assertTrue(differ.isEmpty(), "the managers' journals tell different histories:\n"
                + differ.stream().map(Violation::toString).collect(Collectors.joining("\n")));
        // Entry for entry, tasks and nodes too, up to the common head (a manager that stopped later may have
        // journaled the others leaving after it).
        List<String> first = upToHead.get(managers.get(0).hostname());
        for (TestNode m : managers.subList(1, managers.size())) {
            List<String> other = upToHead.get(m.hostname());
            int i = 0;
            while (i < first.size() && i < other.size() && first.get(i).equals(other.get(i))) {
                i++;
            }
            if (i < first.size() || i < other.size()) {
                fail("the audit of " + managers.get(0).hostname() + " (" + first.size() + " entries up to index "
                        + head.index() + ") and of " + m.hostname() + " (" + other.size() + ") differ first at entry "
                        + i + ":\n  " + (i < first.size() ? first.get(i) : "nothing") + "\n  "
                        + (i < other.size() ? other.get(i) : "nothing"));
            }
        }
        for (String service : SERVICES) {
            List<Applied> applied = m1.of(service);
            String lastLabel = null;
            for (Applied a : applied) {
                if (a.label() != null) {
                    lastLabel = a.label();
                }
            }
            assertEquals(lastLabel, finalLabels.get(service), service + "'s spec carries the label of the journal's "
                    + "last labelled update");
        }
    }

    // ---- the rounds ------------------------------------------------------------------------------------------

    static void runRound(int round) {
        Fault fault = FAULTS.get((round - 1) % FAULTS.size());
        Calm before = awaitCalm("before round " + round);
        TestNode target = fault == Fault.KILL_FOLLOWER ? followers(before.leader()).get(random.nextInt(2))
                : before.leader();
        Clients clients = new Clients(round);
        String note;
        try {
            Eventually.settle(CLIENTS_BEFORE);
            note = inject(fault, target);
            Eventually.settle(CLIENTS_AFTER);
        } catch (RuntimeException | Error e) {
            try {
                clients.stop();
            } catch (RuntimeException | Error s) {
                e.addSuppressed(s);
            }
            throw e;
        }
        clients.stop();
        Calm after = awaitCalm("after round " + round + " (" + fault.what + ", " + target.hostname() + ")");
        say(String.format("round %3d/%d  %-22s %-9s  leader %s -> %s  ops %4d ok, %4d failed, %4d unknown"
                        + " (%d reads skipped)  versions %s  %s", round, ROUNDS, fault.what, target.hostname(),
                before.leader().hostname(), after.leader().hostname(), clients.ok.get(), clients.failed.get(),
                clients.unknown.get(), clients.skipped.get(), after.versions(), note));
    }

    /** Injects the fault into {@code target} and heals it; returns a note on it for the round's summary line. */
    static String inject(Fault fault, TestNode target) {
        switch (fault) {
            case KILL_LEADER, KILL_FOLLOWER -> {
                long down = System.nanoTime();
                try {
                    target.kill9();
                    Eventually.settle(KILLED_FOR);
                } finally {
                    if (!target.daemon().isAlive()) {
                        target.startAgain();
                    }
                }
                return String.format("(down %.1f s)", (System.nanoTime() - down) / 1e9);
            }
            case FREEZE_LEADER -> {
                long pid = target.daemon().jvmPid();
                target.sigstop();
                try {
                    Eventually.settle(FROZEN_FOR);
                } finally {
                    target.sigcont();
                }
                return "(pid " + pid + ")";
            }
            case CUT_OFF_LEADER -> {
                // Everything between the leader and the other managers but the API, which the clients keep using:
                // its own ports (the cluster and Raft ports, and its cluster port if a rejoin moved it) by address,
                // the connections it opens to the others by their owner.
                List<String> others = followers(target).stream().map(TestNode::advertiseAddr).toList();
                long pid = target.daemon().jvmPid();
                Set<Integer> ports = new TreeSet<>(MANAGER_PORTS);
                ports.addAll(Iptables.listeningPorts(pid, target.advertiseAddr()));
                ports.remove(SwarmdProcess.API_PORT);
                int cut = 0;
                try {
                    Iptables.isolate(target.advertiseAddr(), List.copyOf(ports));
                    long end = System.nanoTime() + CUT_FOR.toNanos();
                    do {
                        cut += Iptables.cutConnections(pid, others, port -> port != SwarmdProcess.API_PORT);
                        Eventually.settle(CUT_POLL);
                    } while (System.nanoTime() - end < 0);
                } finally {
                    Iptables.healAll();
                }
                return "(ports " + ports + ", " + cut + " of its connections cut)";
            }
            default -> throw new IllegalArgumentException(fault.toString());
        }
    }

    static List<TestNode> followers(TestNode leader) {
        return managers.stream().filter(m -> m != leader).toList();
    }

    // ---- the managers agree ----------------------------------------------------------------------------------

    /** What each manager went through lately, for a failure's report. */
    static String events() {
        StringBuilder out = new StringBuilder();
        for (TestNode m : managers) {
            out.append("--- ").append(m.hostname()).append(":\n").append(m.daemon().logEvents(12)).append('\n');
        }
        return out.toString();
    }

    /** The leader all managers name, and each service's version (the same through every manager). */
    record Calm(TestNode leader, Map<String, Long> versions) {}

    /**
     * Waits until the three managers run, each lists the three managers ready and reachable and names the same
     * leader, and each gives each service the same version.
     */
    static Calm awaitCalm(String when) {
        return Eventually.awaitValue(when + ": the three managers running, each listing all three ready and "
                + "reachable and naming the same leader, and giving each service the same version", CALM, () -> {
                    Map<String, String> leaders = new TreeMap<>();
                    for (TestNode m : managers) {
                        assertTrue(m.daemon().isAlive(), m.hostname() + " is not running; its log ends with:\n"
                                + m.daemon().logTail(30));
                        JsonNode nodes = getJson(m, "/nodes");
                        assertEquals(managers.size(), nodes.size(), m.hostname() + " lists " + nodes);
                        String leader = null;
                        for (JsonNode n : nodes) {
                            String host = n.path("Description").path("Hostname").asText();
                            JsonNode status = n.path("ManagerStatus");
                            if (!"ready".equals(n.path("Status").path("State").asText())) {
                                fail(m.hostname() + " sees " + host + " as " + n.path("Status") + "\n" + events());
                            }
                            assertEquals("reachable", status.path("Reachability").asText(),
                                    () -> m.hostname() + " sees manager " + host + " as " + status + "\n" + events());
                            if (status.path("Leader").asBoolean(false)) {
                                leader = host;
                            }
                        }
                        assertNotNull(leader, m.hostname() + " names no leader");
                        leaders.put(m.hostname(), leader);
                    }
                    assertEquals(1, new HashSet<>(leaders.values()).size(), "the managers name different leaders: "
                            + leaders);
                    Map<String, Long> versions = new TreeMap<>();
                    for (String service : serviceIds.keySet()) {
                        Map<String, Long> byManager = new TreeMap<>();
                        for (TestNode m : managers) {
                            byManager.put(m.hostname(), getJson(m, "/services/" + serviceIds.get(service))
                                    .path("Version").path("Index").asLong());
                        }
                        assertEquals(1, new HashSet<>(byManager.values()).size(),
                                "the managers give " + service + " different versions: " + byManager);
                        versions.put(service, byManager.values().iterator().next());
                    }
                    String leader = leaders.values().iterator().next();
                    return new Calm(managers.stream().filter(m -> m.hostname().equals(leader)).findFirst()
                            .orElseThrow(() -> new AssertionError("the leader " + leader + " is none of the managers")),
                            versions);
                });
    }

    static JsonNode getJson(TestNode m, String path) throws IOException {
        RawHttp.Response r = m.raw().get(TestNode.API + path);
        assertEquals(200, r.status(), "GET " + path + " on " + m.hostname() + ": " + r);
        return JSON.readTree(r.body());
    }

    /** `docker swarm join-token manager` on the first manager, as arguments after {@code docker swarm}. */
    static List<String> printedManagerJoin(TestNode first) {
        CliResult jt = first.docker("swarm", "join-token", "manager");
        String line = Lines.assertInOrder(jt, "To add a manager to this swarm, run the following command:",
                "docker swarm join --token " + MultiNode.TOKEN + " " + MultiNode.q(first.advertiseAddr()) + ":2377")
                .group();
        List<String> words = Arrays.asList(line.trim().split("\\s+"));
        return new ArrayList<>(words.subList(2, words.size()));
    }

    // ---- the clients -----------------------------------------------------------------------------------------

    /** Four threads sending versioned updates until {@link #stop()}; counts this round's outcomes. */
    static final class Clients {
        final int round;
        final List<Thread> threads = new ArrayList<>();
        final AtomicInteger ok = new AtomicInteger();
        final AtomicInteger failed = new AtomicInteger();
        final AtomicInteger unknown = new AtomicInteger();
        final AtomicInteger skipped = new AtomicInteger();
        final List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        volatile boolean running = true;

        Clients(int round) {
            this.round = round;
            for (int c = 1; c <= CLIENTS; c++) {
                int client = c;
                Thread t = new Thread(() -> {
                    try {
                        loop(client);
                    } catch (Throwable e) {
                        errors.add(e);
                    }
                }, "fault-history-r" + round + "-c" + client);
                t.setDaemon(true);
                threads.add(t);
            }
            threads.forEach(Thread::start);
        }

        /** Lets each client finish the request it is in (each ends within its timeout), then waits for them. */
        void stop() {
            running = false;
            for (Thread t : threads) {
                try {
                    t.join(Duration.ofSeconds(60).toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            List<String> stuck = threads.stream().filter(Thread::isAlive).map(Thread::getName).toList();
            assertTrue(stuck.isEmpty(), "clients still running a minute after being stopped: " + stuck);
            if (!errors.isEmpty()) {
                AssertionError e = new AssertionError("a client of round " + round + " failed", errors.get(0));
                errors.subList(1, errors.size()).forEach(e::addSuppressed);
                throw e;
            }
        }

        void loop(int client) {
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(CONNECT_TIMEOUT).build();
            Random choices = new Random(SEED * 31 + round * 1_000L + client);
            int n = 0;
            while (running) {
                String service = SERVICES.get(choices.nextInt(SERVICES.size()));
                String id = serviceIds.get(service);
                TestNode readFrom = managers.get(choices.nextInt(managers.size()));
                TestNode writeTo = managers.get(choices.nextInt(managers.size()));
                ObjectNode current = read(http, readFrom, id);
                if (current == null || !(current.get("Spec") instanceof ObjectNode spec)
                        || !current.path("Version").path("Index").canConvertToLong()) {
                    skipped.incrementAndGet();
                    Eventually.settle(CLIENT_PAUSE);
                    continue;
                }
                long version = current.path("Version").path("Index").asLong();
                ObjectNode labels = spec.get("Labels") instanceof ObjectNode l ? l : spec.putObject("Labels");
                String label = String.format("r%03d-c%d-%04d", round, client, ++n);
                labels.put(LABEL, label);
                Op.Pending op = history.invoke("c" + client + "@" + writeTo.hostname(), service, label, version);
                switch (update(http, writeTo, id, version, spec, label)) {
                    case OK -> {
                        history.ok(op, OptionalLong.empty());
                        ok.incrementAndGet();
                    }
                    case FAILED -> {
                        history.failed(op);
                        failed.incrementAndGet();
                    }
                    case UNKNOWN -> {
                        history.unknown(op);
                        unknown.incrementAndGet();
                    }
                }
                Eventually.settle(CLIENT_PAUSE);
            }
        }

        /** The service as {@code GET /services/{id}} gives it through {@code m}, or null if that failed. */
        static ObjectNode read(HttpClient http, TestNode m, String id) {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri(m, "/services/" + id))
                        .timeout(HTTP_TIMEOUT).GET().build(), HttpResponse.BodyHandlers.ofString());
                return r.statusCode() == 200 && JSON.readTree(r.body()) instanceof ObjectNode o ? o : null;
            } catch (IOException e) {
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }

        /**
         * Sends the update; never throws. 200: applied. 4xx, or the 500 "update out of sequence" Docker answers a
         * stale version with: refused by the service, never applied. Anything else (no leader, a timeout, a refused
         * or reset connection): unknown.
         */
        static Outcome update(HttpClient http, TestNode m, String id, long version, ObjectNode spec, String label) {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                                uri(m, "/services/" + id + "/update?version=" + version))
                        .timeout(HTTP_TIMEOUT)
                        .header("Content-Type", "application/json")
                        .header("User-Agent", AGENT + label)
                        .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(spec), StandardCharsets.UTF_8))
                        .build(), HttpResponse.BodyHandlers.ofString());
                int status = r.statusCode();
                if (status == 200) {
                    return Outcome.OK;
                }
                if (status >= 400 && status < 500 || status == 500 && r.body().contains("update out of sequence")) {
                    return Outcome.FAILED;
                }
                return Outcome.UNKNOWN;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Outcome.UNKNOWN;
            } catch (IOException | RuntimeException e) {
                return Outcome.UNKNOWN;
            }
        }

        static URI uri(TestNode m, String path) {
            return URI.create("http://" + m.advertiseAddr() + ":" + SwarmdProcess.API_PORT + TestNode.API + path);
        }
    }

    // ---- the journals ----------------------------------------------------------------------------------------

    /** What `swarmd audit verify` says of an intact journal. */
    record Head(long events, long unsealed, long index, String link) {
        @Override
        public String toString() {
            return events + " events (" + unsealed + " from before the chain), head index " + index + ", head link "
                    + link;
        }
    }

    /** `swarmd audit verify --data-root` of the manager's data root, running or stopped: must pass. */
    static Head verify(TestNode m) throws IOException, InterruptedException {
        List<String> out = AuditTest.audit(m.daemon().dataRoot(), 0, "verify");
        Matcher intact = INTACT.matcher(out.isEmpty() ? "" : out.get(out.size() - 1));
        assertTrue(intact.matches(), "swarmd audit verify of " + m.hostname() + ": " + out);
        return new Head(Long.parseLong(intact.group(1)), Long.parseLong(intact.group(2)),
                Long.parseLong(intact.group(3)), intact.group(4));
    }

    /**
     * The services' entries of one manager's audit, in journal order, as the checker reads them: each service
     * event moves the service's version (Version.Index) to its index, from the index of the service's event before
     * (0 before its creation); an update a client sent carries the client's label in its cause, any other event
     * (the creation, the orchestrator's UpdateStatus) none.
     */
    static Journal journalOf(List<JsonNode> audit, Map<String, String> serviceIdsByName) {
        Map<String, String> names = new TreeMap<>();
        serviceIdsByName.forEach((name, id) -> names.put(id, name));
        Map<String, List<Applied>> services = new TreeMap<>();
        Map<String, Long> versions = new TreeMap<>();
        for (JsonNode e : audit) {
            String service = names.get(e.path("id").asText());
            if (!"service".equals(e.path("type").asText()) || service == null) {
                continue;
            }
            long index = e.path("index").asLong();
            Long before = versions.put(service, index);
            Matcher agent = AGENT_LABEL.matcher(e.path("cause").path("actor").asText(""));
            services.computeIfAbsent(service, s -> new ArrayList<>())
                    .add(new Applied(agent.find() ? agent.group(1) : null, before == null ? 0 : before, index));
        }
        return new Journal(services);
    }

    static void say(String line) {
        System.out.println("[fault-history] " + line);
        System.out.flush();
        try {
            Files.writeString(SUMMARY, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException ignored) {
            // stdout has it
        }
    }
}
