package dev.swarmd.it.history;

/** What a client learned about its versioned update. */
public enum Outcome {
    /** HTTP 200: the update was applied. */
    OK,
    /** HTTP 4xx (e.g. "update out of sequence"): the update was definitely not applied. */
    FAILED,
    /** Timeout, connection reset, 5xx: the update may or may not have been applied, possibly after the client gave up. */
    UNKNOWN
}
