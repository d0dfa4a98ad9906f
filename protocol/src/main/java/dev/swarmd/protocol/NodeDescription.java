package dev.swarmd.protocol;

import java.util.Map;

/** What a node reports about itself and its engine. */
public record NodeDescription(
    String hostname,
    String os,
    String architecture,
    long nanoCpus,
    long memoryBytes,
    String engineVersion,
    Map<String, String> engineLabels)
    implements CborSerializable {}
