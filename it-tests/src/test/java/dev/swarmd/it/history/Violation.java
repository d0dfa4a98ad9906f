package dev.swarmd.it.history;

/** One way the recorded history and the journal disagree; {@code message} names the op(s), service and versions. */
public record Violation(Kind kind, String message) {
    public enum Kind {
        /** An acknowledged update is not in the journal. */
        LOST_ACK,
        /** An acknowledged update's reported version is not the one the journal gave it. */
        ACK_VERSION_MISMATCH,
        /** An update answered with a 4xx is in the journal. */
        FAILED_APPLIED,
        /** An update is in the journal more than once. */
        APPLIED_TWICE,
        /** An update is in the journal of a service it was not sent to. */
        WRONG_SERVICE,
        /** An entry did not replace the version its predecessor produced, or did not increase the version. */
        BROKEN_CHAIN,
        /** An update was applied on top of a version other than the one it was sent with: the compare-and-set failed. */
        NOT_BUILT_ON_REPLACED,
        /** The journal puts an update before one that completed before it was even invoked. */
        REAL_TIME_ORDER,
        /** Two managers' journals differ. */
        MANAGERS_DIFFER
    }

    @Override
    public String toString() {
        return kind + ": " + message;
    }
}
