package dev.swarmd.protocol;

/** What an agent reports about a task it runs. exitCode and pid may be null. */
public record StatusReport(
    String taskId,
    String nodeId,
    TaskState state,
    String message,
    String err,
    String containerId,
    Integer exitCode,
    Integer pid)
    implements CborSerializable {}
