package dev.swarmd.it.history;

import static dev.swarmd.it.history.Violation.Kind.ACK_VERSION_MISMATCH;
import static dev.swarmd.it.history.Violation.Kind.APPLIED_TWICE;
import static dev.swarmd.it.history.Violation.Kind.BROKEN_CHAIN;
import static dev.swarmd.it.history.Violation.Kind.FAILED_APPLIED;
import static dev.swarmd.it.history.Violation.Kind.LOST_ACK;
import static dev.swarmd.it.history.Violation.Kind.MANAGERS_DIFFER;
import static dev.swarmd.it.history.Violation.Kind.NOT_BUILT_ON_REPLACED;
import static dev.swarmd.it.history.Violation.Kind.REAL_TIME_ORDER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Clients send versioned updates ({@code POST /services/{id}/update?version=N}) to the services "web" and "db";
 * the journal says what was applied. Times are plain numbers standing for {@link System#nanoTime()} readings.
 */
class HistoryCheckerTest {

    @Test
    void aCleanHistoryWithStaleWritesTimeoutsAndAForeignWritePasses() {
        List<Op> ops = List.of(
                // web starts at version 10. c1 and c2 race on it: c1 wins, c2 is told its version is stale.
                ok("c1", "web", "w1", 10, 0, 10, 11),
                failed("c2", "web", "w2", 10, 2, 12),
                // c2 reads version 11 and retries; it does not read the new version back.
                ok("c2", "web", "w3", 11, 15, 25),
                // (the orchestrator writes version 13 itself: UpdateStatus)
                // c3 sends on 13, the leader is killed, c3 times out: the update was applied nevertheless.
                unknown("c3", "web", "w4", 13, 30, 60),
                ok("c1", "web", "w5", 14, 62, 70, 15),
                // db starts at version 20.
                ok("c3", "db", "d1", 20, 5, 15, 21),
                // c1's update is lost with a partitioned leader: it times out and never makes it to the journal.
                unknown("c1", "db", "d2", 21, 20, 50),
                // c2 and c3 then race on 21; c3 is stale.
                ok("c2", "db", "d3", 21, 55, 65, 22),
                failed("c3", "db", "d4", 21, 58, 68));
        Journal journal = new Journal(Map.of(
                "web", List.of(applied("w1", 10, 11), applied("w3", 11, 12), applied("UpdateStatus", 12, 13),
                        applied("w4", 13, 14), applied("w5", 14, 15)),
                "db", List.of(applied("d1", 20, 21), applied("d3", 21, 22))));

        Result result = HistoryChecker.check(ops, journal);

        assertTrue(result.passed(), result::describe);
        assertEquals(new Result(List.of(), 5, 2, 2, 1, 1), result);
        assertEquals("9 updates: 5 acknowledged, 2 failed, 2 unknown (1 of them applied); 1 foreign writes in the"
                + " journal; no violations.", result.describe());
    }

    @Test
    void aLostAcknowledgedWriteIsCaught() {
        // c1 is acknowledged, but the new leader's journal does not have its update: c2's, sent on the same
        // version, was applied in its place.
        List<Op> ops = List.of(
                ok("c1", "web", "a", 10, 0, 10),
                ok("c2", "web", "b", 10, 20, 30));
        Journal journal = journal("web", applied("b", 10, 11));

        Result result = HistoryChecker.check(ops, journal);

        assertEquals(List.of(LOST_ACK), kinds(result));
        assertMentions(result, "a (client c1");
    }

    @Test
    void anAcknowledgedWriteWithAnotherVersionThanTheJournalsIsCaught() {
        List<Op> ops = List.of(ok("c1", "web", "a", 10, 0, 10, 12));
        Journal journal = journal("web", applied("a", 10, 11));

        Result result = HistoryChecker.check(ops, journal);

        assertEquals(List.of(ACK_VERSION_MISMATCH), kinds(result));
        assertMentions(result, "reported version 12 but the journal of service web gave it version 11");
    }

    @Test
    void aFailedWriteInTheJournalIsCaught() {
        // the leader answered "update out of sequence", yet the update is in the journal
        List<Op> ops = List.of(failed("c1", "web", "a", 10, 0, 10));
        Journal journal = journal("web", applied("a", 10, 11));

        Result result = HistoryChecker.check(ops, journal);

        assertEquals(List.of(FAILED_APPLIED), kinds(result));
        assertMentions(result, "failed update a");
    }

    @Test
    void twoUpdatesAppliedOnTheSameVersionAreCaught() {
        // both clients sent version=10 concurrently; both were applied. Whether the journal says so...
        List<Op> ops = List.of(
                ok("c1", "web", "a", 10, 0, 20),
                ok("c2", "web", "b", 10, 5, 25));
        Result honest = HistoryChecker.check(ops, journal("web", applied("a", 10, 11), applied("b", 10, 12)));
        assertEquals(List.of(BROKEN_CHAIN), kinds(honest));
        assertMentions(honest, "replaced version 10, but the entry before it, a 10->11, produced version 11");

        // ...or records b as having replaced 11, the compare-and-set did not hold for b.
        Result chained = HistoryChecker.check(ops, journal("web", applied("a", 10, 11), applied("b", 11, 12)));
        assertEquals(List.of(NOT_BUILT_ON_REPLACED), kinds(chained));
        assertMentions(chained, "was sent with version=10 but the journal of service web applied it on top of"
                + " version 11, which a produced");
    }

    @Test
    void anUnknownWriteAppliedTwiceIsCaught() {
        // c1 timed out; the update was applied, and applied again (replayed after a failover, say)
        List<Op> ops = List.of(unknown("c1", "web", "a", 10, 0, 10));
        Journal journal = journal("web", applied("a", 10, 11), applied("a", 11, 12));

        Result result = HistoryChecker.check(ops, journal);

        // the replay is also a compare-and-set on a version that was no longer current
        assertEquals(Set.of(APPLIED_TWICE, NOT_BUILT_ON_REPLACED), Set.copyOf(kinds(result)));
        assertMentions(result, "is in the journal 2 times");
        assertEquals(1, result.unknownApplied());
    }

    @Test
    void anUpdateOrderedBeforeOneAcknowledgedBeforeItWasSentIsCaught() {
        // a is acknowledged at 10; b is sent only at 20, yet the journal applies b first
        List<Op> ops = List.of(
                ok("c1", "web", "a", 11, 0, 10),
                ok("c2", "web", "b", 10, 20, 30));
        Journal journal = journal("web", applied("b", 10, 11), applied("a", 11, 12));

        Result result = HistoryChecker.check(ops, journal);

        assertEquals(List.of(REAL_TIME_ORDER), kinds(result));
        assertMentions(result, "a (client c1");
        assertMentions(result, "before b (client c2");
    }

    @Test
    void anUnknownUpdateSentAfterAnAcknowledgedOneCannotBeOrderedBeforeIt() {
        // whatever happened to u, it was sent after a was acknowledged, so it took effect after a
        List<Op> ops = List.of(
                ok("c1", "web", "a", 11, 0, 10),
                unknown("c2", "web", "u", 10, 20, 30));

        Result result = HistoryChecker.check(ops, journal("web", applied("u", 10, 11), applied("a", 11, 12)));

        assertEquals(List.of(REAL_TIME_ORDER), kinds(result));
    }

    @Test
    void anUnknownUpdateMayTakeEffectAfterItsClientGaveUp() {
        // u timed out at 10; b, sent at 20, may be applied before it: u's request was still in flight
        List<Op> ops = List.of(
                unknown("c1", "web", "u", 11, 0, 10),
                ok("c2", "web", "b", 10, 20, 30));

        Result result = HistoryChecker.check(ops, journal("web", applied("b", 10, 11), applied("u", 11, 12)));

        assertTrue(result.passed(), result::describe);
    }

    @Test
    void overlappingUpdatesMayBeAppliedInEitherOrder() {
        // a runs from 0 to 20 and b from 10 to 30: neither completed before the other was sent
        Result aFirst = HistoryChecker.check(
                List.of(ok("c1", "web", "a", 10, 0, 20), ok("c2", "web", "b", 11, 10, 30)),
                journal("web", applied("a", 10, 11), applied("b", 11, 12)));
        Result bFirst = HistoryChecker.check(
                List.of(ok("c1", "web", "a", 11, 0, 20), ok("c2", "web", "b", 10, 10, 30)),
                journal("web", applied("b", 10, 11), applied("a", 11, 12)));

        assertTrue(aFirst.passed(), aFirst::describe);
        assertTrue(bFirst.passed(), bFirst::describe);
    }

    @Test
    void theRealTimeCheckLooksAtEveryEarlierEntryNotJustThePreviousOne() {
        // x was sent at 50; y (0..100) overlaps everything; z was acknowledged at 40, before x was even sent.
        // Only the pair x, z two entries apart is out of order; the scan keeps x as the latest invocation.
        List<Op> ops = List.of(
                ok("c1", "web", "x", 10, 50, 60),
                ok("c2", "web", "y", 11, 0, 100),
                ok("c3", "web", "z", 12, 30, 40));
        Journal journal = journal("web", applied("x", 10, 11), applied("y", 11, 12), applied("z", 12, 13));

        Result result = HistoryChecker.check(ops, journal);

        assertEquals(List.of(REAL_TIME_ORDER), kinds(result));
        assertMentions(result, "z (client c3");
        assertMentions(result, "before x (client c1");
        assertMentions(result, "(positions 0 and 2)");
    }

    @Test
    void managersWhoseJournalsDifferAreReported() {
        Journal full = new Journal(Map.of(
                "web", List.of(applied("w1", 10, 11), applied("w2", 11, 12)),
                "db", List.of(applied("d1", 20, 21))));
        // m3 lags behind on web and applied another update on db
        Journal m3 = new Journal(Map.of(
                "web", List.of(applied("w1", 10, 11)),
                "db", List.of(applied("d9", 20, 21))));

        assertEquals(List.of(), HistoryChecker.compareManagers(Map.of("m1", full, "m2", full)));
        List<Violation> differences = HistoryChecker.compareManagers(Map.of("m1", full, "m2", full, "m3", m3));

        assertEquals(List.of(
                new Violation(MANAGERS_DIFFER, "service db: managers m1 (1 entries) and m3 (1 entries) differ first"
                        + " at position 0: m1 has d1 20->21, m3 has d9 20->21"),
                new Violation(MANAGERS_DIFFER, "service web: managers m1 (2 entries) and m3 (1 entries) differ first"
                        + " at position 1: m1 has w2 11->12, m3 has nothing")), differences);
    }

    @Test
    void theRecorderTimesConcurrentClientsAndCountsUpdatesStillInFlightAsUnknown() throws Exception {
        HistoryRecorder recorder = new HistoryRecorder();
        ExecutorService clients = Executors.newFixedThreadPool(4);
        for (int c = 0; c < 4; c++) {
            String client = "c" + c;
            clients.submit(() -> {
                for (int i = 0; i < 100; i++) {
                    Op.Pending p = recorder.invoke(client, "web", client + "-" + i, i);
                    switch (i % 3) {
                        case 0 -> recorder.ok(p, OptionalLong.of(i + 1));
                        case 1 -> recorder.failed(p);
                        default -> recorder.unknown(p);
                    }
                }
            });
        }
        clients.shutdown();
        assertTrue(clients.awaitTermination(30, TimeUnit.SECONDS));
        // a client thread that never came back
        Op.Pending stuck = recorder.invoke("c9", "web", "stuck", 7);

        List<Op> ops = recorder.ops();

        assertEquals(401, ops.size());
        assertEquals(Map.of(Outcome.OK, 136L, Outcome.FAILED, 132L, Outcome.UNKNOWN, 133L),
                ops.stream().collect(Collectors.groupingBy(Op::outcome, Collectors.counting())));
        assertTrue(ops.stream().allMatch(op -> op.invokedAt() <= op.completedAt()));
        recorder.ok(stuck, OptionalLong.empty());
        assertThrows(IllegalStateException.class, () -> recorder.failed(stuck));
        assertThrows(IllegalArgumentException.class, () -> recorder.invoke("c9", "web", "stuck", 8));
    }

    // --- a small vocabulary for histories ---

    private static Op ok(String client, String service, String label, long version, long invoked, long completed) {
        return new Op(client, service, label, version, invoked, completed, Outcome.OK, OptionalLong.empty());
    }

    private static Op ok(String client, String service, String label, long version, long invoked, long completed,
                         long newVersion) {
        return new Op(client, service, label, version, invoked, completed, Outcome.OK, OptionalLong.of(newVersion));
    }

    private static Op failed(String client, String service, String label, long version, long invoked, long completed) {
        return new Op(client, service, label, version, invoked, completed, Outcome.FAILED, OptionalLong.empty());
    }

    private static Op unknown(String client, String service, String label, long version, long invoked, long gaveUp) {
        return new Op(client, service, label, version, invoked, gaveUp, Outcome.UNKNOWN, OptionalLong.empty());
    }

    private static Applied applied(String label, long replacedVersion, long version) {
        return new Applied(label, replacedVersion, version);
    }

    private static Journal journal(String service, Applied... entries) {
        return new Journal(Map.of(service, List.of(entries)));
    }

    private static List<Violation.Kind> kinds(Result result) {
        List<Violation.Kind> kinds = new ArrayList<>();
        result.violations().forEach(v -> kinds.add(v.kind()));
        return kinds;
    }

    private static void assertMentions(Result result, String text) {
        assertTrue(result.violations().stream().anyMatch(v -> v.message().contains(text)),
                () -> "no violation mentions \"" + text + "\" in: " + result.describe());
    }
}
