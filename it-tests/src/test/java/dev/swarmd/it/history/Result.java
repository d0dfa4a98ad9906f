package dev.swarmd.it.history;

import java.util.List;
import java.util.stream.Collectors;

/** What {@link HistoryChecker#check} found: the violations, and counts that say how much the history exercised. */
public record Result(List<Violation> violations, int acknowledged, int failed, int unknown, int unknownApplied,
                     int foreign) {
    private static final int SHOWN = 20;

    public Result {
        violations = List.copyOf(violations);
    }

    public boolean passed() {
        return violations.isEmpty();
    }

    /** A one-paragraph summary, then the first violations, one a line: meant for an assertion's message. */
    public String describe() {
        String summary = (acknowledged + failed + unknown) + " updates: " + acknowledged + " acknowledged, " + failed
                + " failed, " + unknown + " unknown (" + unknownApplied + " of them applied); " + foreign
                + " foreign writes in the journal; "
                + (passed() ? "no violations." : violations.size() + " violations"
                        + (violations.size() > SHOWN ? ", the first " + SHOWN : "") + ":");
        return violations.stream().limit(SHOWN).map(v -> "\n  " + v).collect(Collectors.joining("", summary, ""));
    }
}
