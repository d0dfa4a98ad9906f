package dev.swarmd.testsupport;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.swarmd.node.NodeEntity;
import dev.swarmd.protocol.NodeDescription;
import dev.swarmd.protocol.NodeSpec;
import dev.swarmd.protocol.ServiceSpec;
import dev.swarmd.protocol.TaskState;
import dev.swarmd.service.ServiceEntity;
import dev.swarmd.task.TaskEntity;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;

/** Specs and states for the manager's tests, built the way the entities build them. */
public final class Fixtures {
  public static final Instant T0 = Instant.parse("2024-05-01T12:00:00Z");

  private Fixtures() {}

  /** The in-memory journal of the persistence testkit over the test application.conf (CBOR bindings). */
  public static Config entityTestConfig() {
    return EventSourcedBehaviorTestKit.config().withFallback(ConfigFactory.load());
  }

  public static ServiceSpec.ContainerSpec container(String image) {
    return new ServiceSpec.ContainerSpec(image, Map.of(), List.of(), List.of(), List.of("A=1"), null, null, null,
        false, false, null, null, null, null);
  }

  public static ServiceSpec.TaskSpec taskSpec(String image) {
    return new ServiceSpec.TaskSpec(container(image), null, null, null, 0);
  }

  public static ServiceSpec.TaskSpec taskSpec(String image, ServiceSpec.RestartPolicy restart,
      ServiceSpec.Placement placement) {
    return new ServiceSpec.TaskSpec(container(image), restart, placement, null, 0);
  }

  public static ServiceSpec replicated(String name, long replicas) {
    return replicated(name, replicas, taskSpec("nginx:1"));
  }

  public static ServiceSpec replicated(String name, long replicas, ServiceSpec.TaskSpec task) {
    return new ServiceSpec(name, Map.of("team", "web"), task, ServiceSpec.Mode.replicated(replicas), null, null,
        new ServiceSpec.Endpoint("vip", List.of(new ServiceSpec.PortConfig(null, "tcp", 80, 8080, "ingress"))));
  }

  public static ServiceSpec global(String name, ServiceSpec.TaskSpec task) {
    return new ServiceSpec(name, Map.of(), task, ServiceSpec.Mode.global(), null, null, null);
  }

  public static ServiceEntity.State service(String id, ServiceSpec spec, long version) {
    return new ServiceEntity.State(id, true, spec, null, version, T0, T0, null, null, null);
  }

  public static NodeDescription description(String hostname) {
    return new NodeDescription(hostname, "linux", "x86_64", 2_000_000_000L, 4L << 30, "27.0.1",
        Map.of("storage", "ssd"));
  }

  public static NodeSpec nodeSpec(String role, String availability, Map<String, String> labels) {
    return new NodeSpec(null, labels, role, availability);
  }

  /** A registered node: role, availability (active|pause|drain) and status (ready|down). */
  public static NodeEntity.State node(String id, String hostname, String role, String availability, String status,
      Map<String, String> labels) {
    return new NodeEntity.State(id, true, nodeSpec(role, availability, labels), description(hostname),
        "10.0.0." + (Math.abs(id.hashCode()) % 250 + 1), null, status, null, 1, T0, T0);
  }

  public static NodeEntity.State readyNode(String id) {
    return node(id, "host-" + id, "worker", "active", "ready", Map.of());
  }

  /** Starts a task of the service; each setter returns a new builder. */
  public static TaskBuilder task(String id, ServiceEntity.State service) {
    return new TaskBuilder(id, service.id(), service.spec().name(), service.spec().task(), service.version(), 1,
        null, TaskState.RUNNING, TaskState.RUNNING, T0, null, null, service.endpointPorts());
  }

  public record TaskBuilder(String id, String serviceId, String serviceName, ServiceSpec.TaskSpec spec,
      long specVersion, int slot, String nodeId, TaskState desired, TaskState state, Instant at, String err,
      Instant notBefore, List<ServiceSpec.PortConfig> ports) {

    public TaskBuilder slot(int s) {
      return new TaskBuilder(id, serviceId, serviceName, spec, specVersion, s, nodeId, desired, state, at, err,
          notBefore, ports);
    }

    public TaskBuilder on(String node) {
      return new TaskBuilder(id, serviceId, serviceName, spec, specVersion, slot, node, desired, state, at, err,
          notBefore, ports);
    }

    public TaskBuilder desired(TaskState d) {
      return new TaskBuilder(id, serviceId, serviceName, spec, specVersion, slot, nodeId, d, state, at, err,
          notBefore, ports);
    }

    public TaskBuilder state(TaskState s) {
      return new TaskBuilder(id, serviceId, serviceName, spec, specVersion, slot, nodeId, desired, s, at, err,
          notBefore, ports);
    }

    /** When the task was created and when its status was last reported. */
    public TaskBuilder at(Instant t) {
      return new TaskBuilder(id, serviceId, serviceName, spec, specVersion, slot, nodeId, desired, state, t, err,
          notBefore, ports);
    }

    /** The error its node reported, as with a failed or rejected task. */
    public TaskBuilder err(String e) {
      return new TaskBuilder(id, serviceId, serviceName, spec, specVersion, slot, nodeId, desired, state, at, e,
          notBefore, ports);
    }

    public TaskBuilder spec(ServiceSpec.TaskSpec s) {
      return new TaskBuilder(id, serviceId, serviceName, s, specVersion, slot, nodeId, desired, state, at, err,
          notBefore, ports);
    }

    public TaskBuilder notBefore(Instant t) {
      return new TaskBuilder(id, serviceId, serviceName, spec, specVersion, slot, nodeId, desired, state, at, err,
          t, ports);
    }

    public TaskEntity.State build() {
      // Replicated tasks (slot > 0) are created unassigned; global ones (slot 0) name their node up front.
      TaskEntity.Definition d = new TaskEntity.Definition(serviceId, serviceName, slot, slot == 0 ? nodeId : null,
          spec, specVersion, TaskState.RUNNING, notBefore, ports);
      TaskEntity.Status status = new TaskEntity.Status(state, state.apiName(), err, at, null, null, null, null, null);
      return new TaskEntity.State(id, true, d, nodeId, desired, status, 1, at, at,
          state.atLeast(TaskState.RUNNING) ? at : null);
    }
  }
}
