package dev.swarmd.protocol;

import java.util.List;

/**
 * A task as its node's agent sees it: what to run and what the manager wants of it. ports: the
 * service's endpoint ports, which the agent binds on its node's address (ingress ones on a host
 * port of its choice, for the routing mesh; host-mode ones on the published port).
 */
public record TaskAssignment(
    String taskId,
    String serviceId,
    String serviceName,
    int slot,
    String nodeId,
    ServiceSpec.TaskSpec spec,
    TaskState desired,
    TaskState state,
    String containerId,
    List<ServiceSpec.PortConfig> ports)
    implements CborSerializable {

  public List<ServiceSpec.PortConfig> endpointPorts() {
    return ports == null ? List.of() : ports;
  }

  /** Docker's container and task name: service.slot.taskid (service.nodeid.taskid for global). */
  public String containerName() {
    return serviceName + "." + (slot > 0 ? String.valueOf(slot) : nodeId) + "." + taskId;
  }
}
