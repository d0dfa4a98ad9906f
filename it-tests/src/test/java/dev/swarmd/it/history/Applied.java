package dev.swarmd.it.history;

/**
 * One update of a service as a manager's journal recorded it.
 *
 * @param label           the update's label value; one no recorded {@link Op} carries (or null) marks a foreign write,
 *                        e.g. the orchestrator's own UpdateStatus changes
 * @param replacedVersion the service's version ({@code Version.Index}) just before this update
 * @param version         the version this update produced
 */
public record Applied(String label, long replacedVersion, long version) {
    @Override
    public String toString() {
        return (label == null ? "(no label)" : label) + " " + replacedVersion + "->" + version;
    }
}
