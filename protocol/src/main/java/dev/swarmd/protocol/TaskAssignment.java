package dev.swarmd.protocol;

/** A task as its node's agent sees it: what to run and what the manager wants of it. */
public record TaskAssignment(
    String taskId,
    String serviceId,
    String serviceName,
    int slot,
    String nodeId,
    ServiceSpec.TaskSpec spec,
    TaskState desired,
    TaskState state,
    String containerId)
    implements CborSerializable {

  /** Docker's container and task name: service.slot.taskid (service.nodeid.taskid for global). */
  public String containerName() {
    return serviceName + "." + (slot > 0 ? String.valueOf(slot) : nodeId) + "." + taskId;
  }
}
