package dev.swarmd.protocol;

import java.util.List;

/**
 * What an agent reports about a task it runs. exitCode, pid and ports may be null; ports: how the
 * container's ports are bound on the node (the host port in publishedPort).
 */
public record StatusReport(
    String taskId,
    String nodeId,
    TaskState state,
    String message,
    String err,
    String containerId,
    Integer exitCode,
    Integer pid,
    List<ServiceSpec.PortConfig> ports)
    implements CborSerializable {}
