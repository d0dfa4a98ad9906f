package dev.swarmd.it.history;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Checks a history of versioned service updates, recorded by the clients, against a manager's journal.
 * The journal order of each service is taken as the linearization: the checker does not search for one,
 * it verifies that the journal's order is consistent with what the clients saw.
 */
public final class HistoryChecker {
    private HistoryChecker() {}

    /** Where one recorded update sits in the journal; {@code previous} is the entry before it, or null. */
    private record Location(String service, int position, Applied entry, Applied previous) {}

    public static Result check(List<Op> ops, Journal journal) {
        Map<String, Op> byLabel = new HashMap<>();
        for (Op op : ops) {
            if (byLabel.putIfAbsent(op.label(), op) != null) {
                throw new IllegalArgumentException("two recorded updates carry the label " + op.label()
                        + ": without unique labels the journal cannot tell them apart");
            }
        }
        List<Violation> violations = new ArrayList<>();
        Map<String, List<Location>> applied = new HashMap<>();
        int foreign = 0;
        // sorted, so that the same history always gives the same report
        for (Map.Entry<String, List<Applied>> e : new TreeMap<>(journal.services()).entrySet()) {
            String service = e.getKey();
            List<Applied> entries = e.getValue();
            checkChain(service, entries, violations);
            checkRealTimeOrder(service, entries, byLabel, violations);
            for (int i = 0; i < entries.size(); i++) {
                Applied entry = entries.get(i);
                if (byLabel.containsKey(entry.label())) {
                    applied.computeIfAbsent(entry.label(), l -> new ArrayList<>())
                            .add(new Location(service, i, entry, i == 0 ? null : entries.get(i - 1)));
                } else {
                    foreign++;
                }
            }
        }
        int acknowledged = 0, failed = 0, unknown = 0, unknownApplied = 0;
        for (Op op : ops) {
            List<Location> where = applied.getOrDefault(op.label(), List.of());
            switch (op.outcome()) {
                case OK -> {
                    acknowledged++;
                    if (where.isEmpty()) {
                        violations.add(new Violation(Violation.Kind.LOST_ACK,
                                "acknowledged update " + op + " is not in the journal of service " + op.service()));
                    } else if (where.size() == 1 && op.newVersion().isPresent()
                            && op.newVersion().getAsLong() != where.get(0).entry().version()) {
                        violations.add(new Violation(Violation.Kind.ACK_VERSION_MISMATCH,
                                "acknowledged update " + op + " reported version " + op.newVersion().getAsLong()
                                        + " but the journal of service " + where.get(0).service()
                                        + " gave it version " + where.get(0).entry().version()));
                    }
                }
                case FAILED -> {
                    failed++;
                    if (!where.isEmpty()) {
                        violations.add(new Violation(Violation.Kind.FAILED_APPLIED,
                                "failed update " + op + " is in the journal of service " + where.get(0).service()
                                        + " at position " + where.get(0).position() + " (" + where.get(0).entry() + ")"));
                    }
                }
                case UNKNOWN -> {
                    unknown++;
                    if (!where.isEmpty()) {
                        unknownApplied++;
                    }
                }
            }
            if (where.size() > 1) {
                violations.add(new Violation(Violation.Kind.APPLIED_TWICE, "update " + op + " is in the journal "
                        + where.size() + " times: " + where.stream().map(HistoryChecker::describe).toList()));
            }
            for (Location at : where) {
                checkCompareAndSet(op, at, violations);
            }
        }
        return new Result(violations, acknowledged, failed, unknown, unknownApplied, foreign);
    }

    /** Each entry replaces the version its predecessor produced and produces a greater one. */
    private static void checkChain(String service, List<Applied> entries, List<Violation> violations) {
        for (int i = 0; i < entries.size(); i++) {
            Applied entry = entries.get(i);
            if (entry.version() <= entry.replacedVersion()) {
                violations.add(new Violation(Violation.Kind.BROKEN_CHAIN, "service " + service + ": entry " + entry
                        + " at position " + i + " does not increase the version"));
            }
            if (i > 0 && entry.replacedVersion() != entries.get(i - 1).version()) {
                violations.add(new Violation(Violation.Kind.BROKEN_CHAIN, "service " + service + ": entry " + entry
                        + " at position " + i + " replaced version " + entry.replacedVersion()
                        + ", but the entry before it, " + entries.get(i - 1) + ", produced version "
                        + entries.get(i - 1).version()));
            }
        }
    }

    /** An update is a compare-and-set: it must have been applied to the very version the client sent. */
    private static void checkCompareAndSet(Op op, Location at, List<Violation> violations) {
        if (!at.service().equals(op.service())) {
            violations.add(new Violation(Violation.Kind.WRONG_SERVICE,
                    "update " + op + " is in the journal of service " + at.service() + " (" + describe(at) + ")"));
        } else if (op.expectedVersion() != at.entry().replacedVersion()) {
            violations.add(new Violation(Violation.Kind.NOT_BUILT_ON_REPLACED, "update " + op
                    + " was sent with version=" + op.expectedVersion() + " but the journal of service " + at.service()
                    + " applied it on top of version " + at.entry().replacedVersion()
                    + (at.previous() == null ? "" : ", which " + at.previous().label() + " produced")
                    + " (" + describe(at) + ")"));
        }
    }

    /**
     * Real-time order: if B completed before A was invoked, the journal must not put A before B. For each entry B
     * that question is "was any earlier entry invoked after B completed?", i.e. "is B's completion before the
     * latest invocation among the earlier entries?": one scan, keeping that latest invocation, answers it for all B.
     * Only an acknowledged update has a completion that bounds when it took effect; an UNKNOWN one (or a FAILED one
     * that was applied anyway, reported elsewhere) may have taken effect at any time after its invocation, so its
     * completion is +infinity: it never violates the order as B, but its invocation still constrains later entries.
     * Foreign writes carry no timing and are skipped.
     */
    private static void checkRealTimeOrder(String service, List<Applied> entries, Map<String, Op> byLabel,
                                           List<Violation> violations) {
        Op latestInvoked = null;
        int latestPosition = -1;
        for (int i = 0; i < entries.size(); i++) {
            Op b = byLabel.get(entries.get(i).label());
            if (b == null) {
                continue;
            }
            if (latestInvoked != null && b.outcome() == Outcome.OK && b.completedAt() < latestInvoked.invokedAt()) {
                violations.add(new Violation(Violation.Kind.REAL_TIME_ORDER, "service " + service + ": " + b
                        + " was acknowledged " + millis(latestInvoked.invokedAt() - b.completedAt())
                        + " before " + latestInvoked + " was invoked, yet the journal applies the latter first"
                        + " (positions " + latestPosition + " and " + i + ")"));
            }
            if (latestInvoked == null || b.invokedAt() > latestInvoked.invokedAt()) {
                latestInvoked = b;
                latestPosition = i;
            }
        }
    }

    /**
     * Compares the managers' journals service by service, each against the first manager by name, and reports the
     * first difference per service and manager. A manager that lags behind is reported too: compare after the
     * managers have had time to catch up.
     */
    public static List<Violation> compareManagers(Map<String, Journal> journals) {
        List<Violation> violations = new ArrayList<>();
        if (journals.size() < 2) {
            return violations;
        }
        SortedMap<String, Journal> byName = new TreeMap<>(journals);
        String reference = byName.firstKey();
        TreeSet<String> services = new TreeSet<>();
        byName.values().forEach(j -> services.addAll(j.services().keySet()));
        for (String service : services) {
            List<Applied> expected = byName.get(reference).of(service);
            for (Map.Entry<String, Journal> other : byName.entrySet()) {
                if (other.getKey().equals(reference)) {
                    continue;
                }
                List<Applied> actual = other.getValue().of(service);
                int i = 0;
                while (i < expected.size() && i < actual.size() && Objects.equals(expected.get(i), actual.get(i))) {
                    i++;
                }
                if (i < expected.size() || i < actual.size()) {
                    violations.add(new Violation(Violation.Kind.MANAGERS_DIFFER, "service " + service + ": managers "
                            + reference + " (" + expected.size() + " entries) and " + other.getKey() + " ("
                            + actual.size() + " entries) differ first at position " + i + ": " + reference + " has "
                            + entryAt(expected, i) + ", " + other.getKey() + " has " + entryAt(actual, i)));
                }
            }
        }
        return violations;
    }

    private static String entryAt(List<Applied> entries, int i) {
        return i < entries.size() ? entries.get(i).toString() : "nothing";
    }

    private static String describe(Location at) {
        return at.service() + " position " + at.position() + ": " + at.entry();
    }

    private static String millis(long nanos) {
        return String.format("%.3f ms", nanos / 1e6);
    }
}
