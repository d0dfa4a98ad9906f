package dev.swarmd.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.swarmd.endpoint.PortAllocator;
import dev.swarmd.endpoint.VirtualIps;
import dev.swarmd.node.NodeEntity;
import dev.swarmd.protocol.Ids;
import dev.swarmd.protocol.ServiceSpec;
import dev.swarmd.protocol.TaskState;
import dev.swarmd.service.ServiceEntity;
import dev.swarmd.swarm.SwarmRuntime;
import dev.swarmd.task.TaskEntity;
import dev.swarmd.view.SwarmView;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** /services: create, list, inspect, update (scale, rollback) and remove. */
final class ServiceEndpoints {
  private static final Logger LOG = LoggerFactory.getLogger(ServiceEndpoints.class);
  private static final Set<String> FILTERS = Set.of("id", "name", "label", "mode");

  private ServiceEndpoints() {}

  static CompletionStage<Reply> create(SwarmRuntime rt, Call call) {
    ServiceSpec spec = ServiceJson.parse(call.json());
    String id = Ids.newId();
    SwarmView view = rt.view();
    if (!view.reserveName(spec.name(), id)) {
      throw new ApiException(409, "rpc error: code = AlreadyExists desc = name conflicts with an existing object: "
          + "service " + spec.name() + " already exists");
    }
    List<ServiceSpec.PortConfig> ports;
    String vip;
    try {
      ports = allocate(view, id, spec, List.of());
      vip = virtualIp(view, id, spec, null);
    } catch (ApiException e) {
      view.releaseName(spec.name());
      view.releaseEndpoint(id);
      throw e;
    }
    return rt.entities().service(id, r -> new ServiceEntity.Create(spec, ports, vip, call.cause(), r))
        .whenComplete((r, e) -> {
          view.releaseName(spec.name());
          view.releaseEndpoint(id);
        })
        .thenApply(r -> {
          failIfRefused(r);
          LOG.info("service {} ({}) created by {}", spec.name(), id, call.client());
          ObjectNode o = Json.object();
          o.put("ID", id);
          return Reply.created(o);
        });
  }

  static Reply list(SwarmRuntime rt, Call call) {
    Filters f = Filters.parse(call.param("filters"), FILTERS);
    boolean status = call.flag("status");
    ArrayNode out = Json.array();
    rt.view().services().stream()
        .filter(s -> f.any("id", v -> s.id().startsWith(v)))
        .filter(s -> f.any("name", v -> s.spec().name().startsWith(v)))
        .filter(s -> f.any("mode", v -> v.equalsIgnoreCase(s.spec().mode().kind().name())))
        .filter(s -> f.labels("label", s.spec().labels()))
        .sorted(Comparator.comparing(ServiceEntity.State::createdAt))
        .forEach(s -> {
          ObjectNode o = ServiceJson.render(s, rt.view().swarm().addressPool(), false);
          if (status) {
            o.set("ServiceStatus", serviceStatus(rt.view(), s, rt.view().tasksOf(s.id())));
          }
          out.add(o);
        });
    return Reply.ok(out);
  }

  /**
   * As swarmkit's ListServiceStatuses: running tasks, and desired (replicas, or live global tasks).
   * A task counts as running while it is wanted and its node is up: one left on a node that went
   * down has been replaced already.
   */
  private static ObjectNode serviceStatus(SwarmView view, ServiceEntity.State s, List<TaskEntity.State> tasks) {
    long running = tasks.stream()
        .filter(t -> t.state() == TaskState.RUNNING && t.desired() == TaskState.RUNNING)
        .filter(t -> view.node(t.nodeId()).map(NodeEntity.State::ready).orElse(false))
        .count();
    long desired = s.spec().mode().kind() == ServiceSpec.ModeKind.GLOBAL
        ? tasks.stream().filter(t -> t.desired() == TaskState.RUNNING).count()
        : s.spec().mode().replicas();
    ObjectNode o = Json.object();
    o.put("RunningTasks", running);
    o.put("DesiredTasks", desired);
    o.put("CompletedTasks", 0);
    return o;
  }

  static Reply inspect(SwarmRuntime rt, Call call, String ref) {
    return Reply.ok(ServiceJson.render(find(rt, ref), rt.view().swarm().addressPool(), call.flag("insertDefaults")));
  }

  static CompletionStage<Reply> update(SwarmRuntime rt, Call call, String ref) {
    ServiceEntity.State current = find(rt, ref);
    long version = call.version("service");
    CompletionStage<ServiceEntity.Reply> reply;
    if ("previous".equals(call.param("rollback"))) {
      if (current.previousSpec() != null) {
        // The entity restores the previous spec's ports; they must still be free.
        allocate(rt.view(), current.id(), current.previousSpec(), current.endpointPorts());
        rt.view().releaseEndpoint(current.id());
      }
      reply = rt.entities().service(current.id(), r -> new ServiceEntity.Rollback(version, call.cause(), r));
    } else {
      ServiceSpec spec = ServiceJson.parse(call.json());
      if (!spec.name().equals(current.spec().name())) {
        throw new ApiException(400, "rpc error: code = Unimplemented desc = renaming services is not supported");
      }
      if (spec.mode().kind() != current.spec().mode().kind()) {
        throw new ApiException(400, "rpc error: code = Unimplemented desc = service mode change is not allowed");
      }
      List<ServiceSpec.PortConfig> ports;
      String vip;
      try {
        ports = allocate(rt.view(), current.id(), spec, current.endpointPorts());
        vip = virtualIp(rt.view(), current.id(), spec, current.virtualIp());
      } catch (ApiException e) {
        rt.view().releaseEndpoint(current.id());
        throw e;
      }
      reply = rt.entities().service(current.id(),
              r -> new ServiceEntity.Update(spec, ports, vip, version, call.cause(), r))
          .whenComplete((r, e) -> rt.view().releaseEndpoint(current.id()));
    }
    return reply.thenApply(r -> {
      failIfRefused(r);
      LOG.info("service {} ({}) updated to version {} by {}", current.spec().name(), current.id(),
          r.state().version(), call.client());
      ObjectNode o = Json.object();
      o.putNull("Warnings");
      return Reply.ok(o);
    });
  }

  static CompletionStage<Reply> remove(SwarmRuntime rt, Call call, String ref) {
    ServiceEntity.State current = find(rt, ref);
    return rt.entities().service(current.id(), r -> new ServiceEntity.Remove(call.cause(), r)).thenApply(r -> {
      failIfRefused(r);
      LOG.info("service {} ({}) removed by {}", current.spec().name(), current.id(), call.client());
      return Reply.empty();
    });
  }

  static ServiceEntity.State find(SwarmRuntime rt, String ref) {
    SwarmView.Lookup<ServiceEntity.State> l = rt.view().findService(ref);
    if (l.matches() > 1) {
      throw ApiException.badRequest("service " + ref + " is ambiguous (" + l.matches() + " matches found)");
    }
    if (l.value() == null) {
      throw ApiException.notFound("service " + ref + " not found");
    }
    return l.value();
  }


  private static List<ServiceSpec.PortConfig> allocate(SwarmView view, String id, ServiceSpec spec,
      List<ServiceSpec.PortConfig> current) {
    try {
      return view.reservePorts(id, spec.name(), spec.endpoint(), current);
    } catch (PortAllocator.Conflict e) {
      throw new ApiException(400, "rpc error: code = InvalidArgument desc = " + e.getMessage());
    }
  }

  private static String virtualIp(SwarmView view, String id, ServiceSpec spec, String current) {
    try {
      return view.reserveVirtualIp(id, spec.endpoint(), current);
    } catch (VirtualIps.Exhausted e) {
      throw new ApiException(400, "rpc error: code = ResourceExhausted desc = " + e.getMessage());
    }
  }

  private static void failIfRefused(ServiceEntity.Reply r) {
    if (r.failure() != null) {
      throw ApiException.of(r.failure());
    }
  }
}
