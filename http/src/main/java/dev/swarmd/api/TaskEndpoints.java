package dev.swarmd.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.swarmd.service.ServiceEntity;
import dev.swarmd.swarm.SwarmRuntime;
import dev.swarmd.task.TaskEntity;
import dev.swarmd.view.SwarmView;
import java.util.Comparator;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/** /tasks: list with Docker's filters (including the CLI's _up-to-date) and inspect. */
final class TaskEndpoints {
  private static final Set<String> FILTERS =
      Set.of("id", "name", "label", "service", "node", "desired-state", "_up-to-date", "runtime");
  private static final Set<String> DESIRED = Set.of("running", "shutdown", "accepted");

  private TaskEndpoints() {}

  static Reply list(SwarmRuntime rt, Call call) {
    Filters f = Filters.parse(call.param("filters"), FILTERS);
    SwarmView view = rt.view();
    for (String d : f.get("desired-state")) {
      if (!DESIRED.contains(d)) {
        throw ApiException.badRequest("Invalid task desired state value: " + d);
      }
    }
    Set<String> services = f.get("service").stream().map(ref -> ServiceEndpoints.find(rt, ref).id())
        .collect(Collectors.toSet());
    Set<String> nodes = f.get("node").stream().map(ref -> NodeEndpoints.find(rt, ref).id())
        .collect(Collectors.toSet());
    boolean upToDate = f.has("_up-to-date");
    ArrayNode out = Json.array();
    view.tasks().stream()
        .filter(t -> f.any("id", v -> t.id().startsWith(v)))
        .filter(t -> !f.has("service") || services.contains(t.definition().serviceId()))
        .filter(t -> !f.has("node") || nodes.contains(t.nodeId()))
        .filter(t -> f.any("desired-state", v -> v.equals(t.desired().apiName())))
        .filter(t -> f.any("name", v -> name(t).startsWith(v)))
        .filter(t -> f.any("runtime", v -> v.equals("container")))
        .filter(t -> f.labels("label", Map.of()))
        .filter(t -> !upToDate || current(view, t))
        .sorted(Comparator.comparing(TaskEntity.State::createdAt))
        .forEach(t -> out.add(TaskJson.render(t)));
    return Reply.ok(out);
  }

  static Reply inspect(SwarmRuntime rt, String ref) {
    SwarmView.Lookup<TaskEntity.State> l = rt.view().findTask(ref);
    if (l.value() == null) {
      throw l.matches() > 1
          ? ApiException.badRequest("task " + ref + " is ambiguous (" + l.matches() + " matches found)")
          : ApiException.notFound("task " + ref + " not found");
    }
    return Reply.ok(TaskJson.render(l.value()));
  }

  /** Swarmkit's !IsTaskDirty: the task runs the service's current task spec. */
  private static boolean current(SwarmView view, TaskEntity.State t) {
    return view.service(t.definition().serviceId())
        .map(ServiceEntity.State::spec)
        .map(spec -> Objects.equals(spec.task(), t.definition().spec()))
        .orElse(false);
  }

  private static String name(TaskEntity.State t) {
    var d = t.definition();
    return d.serviceName() + "." + (d.slot() > 0 ? String.valueOf(d.slot()) : t.nodeId());
  }
}
