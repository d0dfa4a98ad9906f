package dev.swarmd.it.history;

import java.util.Objects;
import java.util.OptionalLong;

/**
 * One recorded {@code POST /services/{service}/update?version={expectedVersion}}: a compare-and-set on the
 * service's version, carrying a unique {@code label} value so that it can be found in the journal.
 *
 * @param invokedAt   {@link System#nanoTime()} before the request was sent
 * @param completedAt {@link System#nanoTime()} when the answer came back, or, for {@link Outcome#UNKNOWN}, when the
 *                    client gave up
 * @param newVersion  for {@link Outcome#OK} only, the version the service got, if the client read it back
 */
public record Op(String client, String service, String label, long expectedVersion,
                 long invokedAt, long completedAt, Outcome outcome, OptionalLong newVersion) {
    public Op {
        Objects.requireNonNull(client, "client");
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(label, "label");
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(newVersion, "newVersion");
        if (completedAt < invokedAt) {
            throw new IllegalArgumentException(label + ": completed at " + completedAt + " before invoked at " + invokedAt);
        }
        if (outcome != Outcome.OK && newVersion.isPresent()) {
            throw new IllegalArgumentException(label + ": only an acknowledged update knows its new version");
        }
    }

    /** An update sent and not answered yet; {@link HistoryRecorder} turns it into an {@link Op}. */
    public record Pending(String client, String service, String label, long expectedVersion, long invokedAt) {
        Op complete(long completedAt, Outcome outcome, OptionalLong newVersion) {
            return new Op(client, service, label, expectedVersion, invokedAt, completedAt, outcome, newVersion);
        }
    }

    @Override
    public String toString() {
        return label + " (client " + client + ", service " + service + ", version=" + expectedVersion + ", " + outcome
                + (newVersion.isPresent() ? " -> " + newVersion.getAsLong() : "") + ")";
    }
}
