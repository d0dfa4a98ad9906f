package dev.swarmd.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.swarmd.protocol.ServiceSpec;
import dev.swarmd.task.TaskEntity;
import java.util.List;

/** A task in Docker's JSON. */
final class TaskJson {
  private TaskJson() {}

  static ObjectNode render(TaskEntity.State t) {
    ObjectNode o = Json.object();
    o.put("ID", t.id());
    o.putObject("Version").put("Index", t.version());
    o.put("CreatedAt", Json.time(t.createdAt()));
    o.put("UpdatedAt", Json.time(t.updatedAt()));
    o.putObject("Labels");
    ServiceJson.taskSpec(o.putObject("Spec"), t.definition().spec(), false);
    o.put("ServiceID", t.definition().serviceId());
    if (t.definition().slot() > 0) {
      o.put("Slot", t.definition().slot());
    }
    if (t.nodeId() != null) {
      o.put("NodeID", t.nodeId());
    }
    TaskEntity.Status s = t.status();
    ObjectNode status = o.putObject("Status");
    status.put("Timestamp", Json.time(s.timestamp()));
    status.put("State", s.state().apiName());
    status.put("Message", s.message());
    if (s.err() != null) {
      status.put("Err", s.err());
    }
    if (s.containerId() != null) {
      ObjectNode cs = status.putObject("ContainerStatus");
      cs.put("ContainerID", s.containerId());
      if (s.pid() != null) {
        cs.put("PID", s.pid());
      }
      cs.put("ExitCode", s.exitCode() == null ? 0 : s.exitCode());
    }
    // As Docker: only host-mode ports show; the routing mesh's host ports are swarmd's business.
    ObjectNode portStatus = status.putObject("PortStatus");
    List<ServiceSpec.PortConfig> hostMode =
        s.boundPorts().stream().filter(p -> p.publishMode().equals("host")).toList();
    if (!hostMode.isEmpty()) {
      ArrayNode ports = portStatus.putArray("Ports");
      for (ServiceSpec.PortConfig p : hostMode) {
        ObjectNode po = ports.addObject();
        if (p.name() != null && !p.name().isEmpty()) {
          po.put("Name", p.name());
        }
        po.put("Protocol", p.protocol());
        po.put("TargetPort", p.targetPort());
        po.put("PublishedPort", p.publishedPort());
        po.put("PublishMode", "host");
      }
    }
    o.put("DesiredState", t.desired().apiName());
    return o;
  }
}
