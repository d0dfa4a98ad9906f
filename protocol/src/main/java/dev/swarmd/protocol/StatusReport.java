package dev.swarmd.protocol;

import java.util.List;

/**
 * What an agent reports about a task it runs. exitCode, pid, ports and address may be null; ports:
 * how the container's ports are bound on the node (the host port in publishedPort); address: the
 * container's IP address on its network, which the swarm's DNS gives out for the task.
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
    List<ServiceSpec.PortConfig> ports,
    String address)
    implements CborSerializable {}
