package dev.swarmd.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.swarmd.node.NodeEntity;
import dev.swarmd.protocol.NodeDescription;
import dev.swarmd.protocol.NodeSpec;
import dev.swarmd.swarm.SwarmCa;
import java.util.Map;
import java.util.Set;

/** A node in Docker's JSON, and NodeSpec updates. */
final class NodeJson {
  private NodeJson() {}

  static ObjectNode render(NodeEntity.State n, String leaderId, String caCertPem) {
    ObjectNode o = Json.object();
    o.put("ID", n.id());
    o.putObject("Version").put("Index", n.version());
    o.put("CreatedAt", Json.time(n.createdAt()));
    o.put("UpdatedAt", Json.time(n.updatedAt()));
    ObjectNode spec = o.putObject("Spec");
    if (n.spec().name() != null && !n.spec().name().isEmpty()) {
      spec.put("Name", n.spec().name());
    }
    spec.set("Labels", Json.MAPPER.valueToTree(n.spec().labels()));
    spec.put("Role", n.spec().role());
    spec.put("Availability", n.spec().availability());
    NodeDescription d = n.description();
    ObjectNode desc = o.putObject("Description");
    desc.put("Hostname", d.hostname());
    ObjectNode platform = desc.putObject("Platform");
    platform.put("Architecture", d.architecture());
    platform.put("OS", d.os());
    ObjectNode res = desc.putObject("Resources");
    res.put("NanoCPUs", d.nanoCpus());
    res.put("MemoryBytes", d.memoryBytes());
    ObjectNode engine = desc.putObject("Engine");
    engine.put("EngineVersion", d.engineVersion());
    if (d.engineLabels() != null && !d.engineLabels().isEmpty()) {
      engine.set("Labels", Json.MAPPER.valueToTree(d.engineLabels()));
    }
    engine.putArray("Plugins");
    if (caCertPem != null) {
      desc.set("TLSInfo", Json.MAPPER.valueToTree(SwarmCa.tlsInfo(caCertPem)));
    }
    ObjectNode status = o.putObject("Status");
    status.put("State", n.statusState());
    if (n.statusMessage() != null) {
      status.put("Message", n.statusMessage());
    }
    status.put("Addr", n.addr());
    if ("manager".equals(n.spec().role()) && n.managerAddr() != null) {
      ObjectNode ms = o.putObject("ManagerStatus");
      if (n.id().equals(leaderId)) {
        ms.put("Leader", true);
      }
      ms.put("Reachability", n.ready() ? "reachable" : "unreachable");
      ms.put("Addr", n.managerAddr());
    }
    return o;
  }

  /** Parses a NodeSpec body (`docker node update`), validated. */
  static NodeSpec parseSpec(com.fasterxml.jackson.databind.JsonNode body) {
    Json.Reader r = new Json.Reader(body, "NodeSpec");
    String role = r.string("Role");
    if (role == null || !Set.of("manager", "worker").contains(role)) {
      throw ApiException.badRequest("rpc error: code = InvalidArgument desc = invalid role: \"" + role + "\"");
    }
    String availability = r.string("Availability");
    if (availability == null || !Set.of("active", "pause", "drain").contains(availability)) {
      throw ApiException.badRequest(
          "rpc error: code = InvalidArgument desc = invalid availability: \"" + availability + "\"");
    }
    Map<String, String> labels = r.stringMap("Labels");
    return new NodeSpec(r.string("Name"), labels == null ? Map.of() : labels, role, availability);
  }
}
