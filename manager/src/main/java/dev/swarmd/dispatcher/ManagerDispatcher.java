package dev.swarmd.dispatcher;

import dev.swarmd.protocol.Cause;
import dev.swarmd.endpoint.Names;
import dev.swarmd.endpoint.Routes;
import dev.swarmd.protocol.Dispatcher;
import dev.swarmd.protocol.IngressRoute;
import dev.swarmd.protocol.ServiceName;
import dev.swarmd.protocol.StatusReport;
import dev.swarmd.protocol.TaskAssignment;
import dev.swarmd.store.Entities;
import dev.swarmd.task.TaskEntity;
import dev.swarmd.view.SwarmView;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * The manager's dispatcher: hands each node the tasks assigned to it and turns the node's status
 * reports into task commands. The task entity refuses a report from a node the task is not on.
 */
public final class ManagerDispatcher implements Dispatcher {
  private final SwarmView view;
  private final Entities entities;

  public ManagerDispatcher(SwarmView view, Entities entities) {
    this.view = view;
    this.entities = entities;
  }

  @Override
  public List<TaskAssignment> assignments(String nodeId) {
    return view.tasks().stream()
        .filter(t -> nodeId.equals(t.nodeId()))
        .map(t -> new TaskAssignment(t.id(), t.definition().serviceId(), t.definition().serviceName(),
            t.definition().slot(), t.nodeId(), t.definition().spec(), t.desired(), t.state(),
            t.status().containerId(), t.definition().endpointPorts()))
        .toList();
  }

  @Override
  public List<IngressRoute> routes() {
    return Routes.of(view.services(), view.tasks(), view.nodes());
  }

  @Override
  public List<ServiceName> names() {
    return Names.of(view.services(), view.tasks(), view.nodes());
  }

  @Override
  public CompletionStage<Boolean> report(StatusReport r) {
    TaskEntity.Status status = new TaskEntity.Status(r.state(), r.message(), r.err(), Instant.now(),
        r.containerId(), r.exitCode(), r.pid(), r.ports(), r.address());
    // A failed task keeps Docker's message of its last step ("started"); what it reports is its error.
    String reason = r.err() != null && !r.err().isBlank() ? r.err() : r.message();
    Cause cause = Cause.loop("agent " + r.nodeId(), reason);
    return entities.task(r.taskId(),
            replyTo -> new TaskEntity.Report(r.nodeId(), status, cause, replyTo))
        .thenApply(reply -> reply.failure() == null);
  }

  @Override
  public void watch(Runnable onChange) {
    view.watch(onChange);
  }

  @Override
  public boolean synced() {
    return true;
  }
}
