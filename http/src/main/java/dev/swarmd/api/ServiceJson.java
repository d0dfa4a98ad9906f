package dev.swarmd.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.swarmd.endpoint.AddressPool;
import dev.swarmd.endpoint.VirtualIps;
import dev.swarmd.protocol.ServiceSpec;
import dev.swarmd.scheduler.Constraint;
import dev.swarmd.service.ServiceEntity;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** Docker's ServiceSpec JSON to our domain spec (validated as swarmkit validates) and back. */
public final class ServiceJson {
  /** Swarmkit: a service name must be a valid DNS label. */
  private static final Pattern NAME = Pattern.compile("^[a-zA-Z0-9](?:[-_]*[A-Za-z0-9]+)*$");
  /** Docker's reference grammar, loosely: [host[:port]/]path[:tag][@digest], lowercase path. */
  private static final Pattern IMAGE = Pattern.compile(
      "^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
          + "(?::[\\w][\\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$");
  static final long MAX_REPLICAS = 10_000;
  private static final long DEFAULT_GRACE = Duration.ofSeconds(10).toNanos();
  private static final long DEFAULT_DELAY = Duration.ofSeconds(5).toNanos();
  private static final long MIN_HEALTH_DURATION = Duration.ofMillis(1).toNanos();
  private static final Set<String> FAILURE_ACTIONS = Set.of("pause", "continue", "rollback");
  private static final Set<String> ORDERS = Set.of("stop-first", "start-first");
  private static final Set<String> CONDITIONS = Set.of("none", "on-failure", "any");

  private ServiceJson() {}

  public static ServiceSpec parse(JsonNode body) {
    Json.Reader spec = new Json.Reader(body, "ServiceSpec");
    String name = spec.string("Name");
    if (name == null || name.isEmpty()) {
      name = Names.random();
    }
    if (name.length() > 63 || !NAME.matcher(name).matches()) {
      throw invalid("name must be valid as a DNS name component");
    }
    Json.Reader tt = spec.object("TaskTemplate");
    ServiceSpec.TaskSpec task = parseTask(tt);
    ServiceSpec.Mode mode = parseMode(spec.object("Mode"));
    ServiceSpec.UpdatePolicy update = parseUpdate(spec.object("UpdateConfig"), "UpdateConfig");
    ServiceSpec.UpdatePolicy rollback = parseUpdate(spec.object("RollbackConfig"), "RollbackConfig");
    ServiceSpec.Endpoint endpoint = parseEndpoint(spec.object("EndpointSpec"));
    Map<String, String> labels = orEmpty(spec.stringMap("Labels"));
    return new ServiceSpec(name, labels, task, mode, update, rollback, endpoint);
  }

  private static ServiceSpec.TaskSpec parseTask(Json.Reader tt) {
    Json.Reader cs = tt.object("ContainerSpec");
    if (!cs.present()) {
      throw invalid("TaskSpec: missing runtime");
    }
    if (tt.has("PluginSpec") || tt.has("NetworkAttachmentSpec")) {
      throw invalid("TaskSpec: only container tasks are supported");
    }
    unsupported(cs, "ContainerSpec", "Mounts", "Secrets", "Configs", "CapabilityAdd",
        "CapabilityDrop", "Sysctls", "Ulimits", "Privileges", "Groups", "Hosts");
    unsupported(tt, "TaskTemplate", "Networks", "LogDriver");
    String image = cs.string("Image");
    if (image == null || image.isEmpty()) {
      throw invalid("ContainerSpec: image reference must be provided");
    }
    if (!IMAGE.matcher(image).matches()) {
      throw invalid("ContainerSpec: \"" + image + "\" is not a valid repository/tag");
    }
    Long grace = duration(cs, "StopGracePeriod");
    ServiceSpec.ContainerSpec container = new ServiceSpec.ContainerSpec(image, orEmpty(cs.stringMap("Labels")),
        cs.strings("Command"), cs.strings("Args"), cs.strings("Env"), cs.string("Dir"), cs.string("User"),
        cs.string("Hostname"), Boolean.TRUE.equals(cs.bool("TTY")), Boolean.TRUE.equals(cs.bool("OpenStdin")),
        cs.bool("Init"), grace, cs.string("StopSignal"), parseHealth(cs.object("Healthcheck")));
    return new ServiceSpec.TaskSpec(container, parseRestart(tt.object("RestartPolicy")),
        parsePlacement(tt.object("Placement")), parseResources(tt.object("Resources")),
        orZero(tt.integer("ForceUpdate", true)));
  }

  /** Validated as swarmkit does: durations of 0 (inherit) or at least 1 ms, retries not negative. */
  private static ServiceSpec.HealthConfig parseHealth(Json.Reader h) {
    if (!h.present()) {
      return null;
    }
    List<String> test = orEmpty(h.strings("Test"));
    if (!test.isEmpty() && !Set.of("NONE", "CMD", "CMD-SHELL").contains(test.get(0))) {
      throw invalid("ContainerSpec: Healthcheck.Test must start with NONE, CMD or CMD-SHELL, got \"" + test.get(0)
          + "\"");
    }
    boolean noCommand = test.size() == 1 && !test.get(0).equals("NONE");
    if (noCommand || (!test.isEmpty() && test.get(0).equals("CMD-SHELL") && test.size() != 2)) {
      throw invalid("ContainerSpec: Healthcheck.Test " + test + " has no command to run");
    }
    long interval = healthDuration(h, "Interval");
    long timeout = healthDuration(h, "Timeout");
    long startPeriod = healthDuration(h, "StartPeriod");
    long startInterval = healthDuration(h, "StartInterval");
    Long retries = h.integer("Retries", false);
    if (retries != null && retries < 0) {
      throw invalid("ContainerSpec: Retries in HealthConfig cannot be negative");
    }
    if (retries != null && retries > Integer.MAX_VALUE) {
      throw invalid("ContainerSpec: Retries in HealthConfig is too large");
    }
    return new ServiceSpec.HealthConfig(test, interval, timeout, startPeriod, startInterval,
        retries == null ? 0 : retries.intValue());
  }

  private static long healthDuration(Json.Reader h, String key) {
    Long v = h.integer(key, false);
    if (v != null && v != 0 && v < MIN_HEALTH_DURATION) {
      throw invalid("ContainerSpec: " + key + " in HealthConfig cannot be less than 1ms");
    }
    return orZero(v);
  }

  private static ServiceSpec.RestartPolicy parseRestart(Json.Reader r) {
    if (!r.present()) {
      return null;
    }
    String condition = r.string("Condition");
    if (condition != null && !condition.isEmpty() && !CONDITIONS.contains(condition)) {
      throw invalid("TaskSpec: restart condition must be one of none, on-failure, any");
    }
    Long max = r.integer("MaxAttempts", true);
    return new ServiceSpec.RestartPolicy(condition == null || condition.isEmpty() ? null : condition,
        duration(r, "Delay"), max, duration(r, "Window"));
  }

  private static ServiceSpec.Placement parsePlacement(Json.Reader p) {
    List<String> constraints = orEmpty(p.strings("Constraints"));
    for (String c : constraints) {
      try {
        Constraint.parse(c);
      } catch (IllegalArgumentException e) {
        throw invalid("TaskSpec: " + e.getMessage());
      }
    }
    return new ServiceSpec.Placement(constraints, orZero(p.integer("MaxReplicas", true)));
  }

  private static ServiceSpec.Resources parseResources(Json.Reader r) {
    Json.Reader limits = r.object("Limits");
    Json.Reader reservations = r.object("Reservations");
    return new ServiceSpec.Resources(orZero(limits.integer("NanoCPUs", false)),
        orZero(limits.integer("MemoryBytes", false)), orZero(reservations.integer("NanoCPUs", false)),
        orZero(reservations.integer("MemoryBytes", false)));
  }

  private static ServiceSpec.Mode parseMode(Json.Reader m) {
    Json.Reader replicated = m.object("Replicated");
    boolean global = m.object("Global").present();
    if (m.has("ReplicatedJob") || m.has("GlobalJob")) {
      throw invalid("job modes are not supported by swarmd yet");
    }
    if (global && replicated.present()) {
      throw invalid("ServiceSpec: only one mode may be set");
    }
    if (global) {
      return ServiceSpec.Mode.global();
    }
    Long replicas = replicated.integer("Replicas", true);
    long n = replicas == null ? 1 : replicas;
    if (n > MAX_REPLICAS) {
      throw invalid("ServiceSpec: replicas must be at most " + MAX_REPLICAS + ", got " + n);
    }
    return ServiceSpec.Mode.replicated(n);
  }

  private static ServiceSpec.UpdatePolicy parseUpdate(Json.Reader u, String what) {
    if (!u.present()) {
      return null;
    }
    String action = u.string("FailureAction");
    if (action != null && !action.isEmpty() && !FAILURE_ACTIONS.contains(action)) {
      throw invalid(what + ": failure action must be one of pause, continue, rollback");
    }
    String order = u.string("Order");
    if (order != null && !order.isEmpty() && !ORDERS.contains(order)) {
      throw invalid(what + ": order must be one of stop-first, start-first");
    }
    Double ratio = u.number("MaxFailureRatio");
    if (ratio != null && (ratio < 0 || ratio > 1)) {
      throw invalid(what + ": max failure ratio must be between 0 and 1");
    }
    return new ServiceSpec.UpdatePolicy(orZero(u.integer("Parallelism", true)), orZero(duration(u, "Delay")),
        action == null || action.isEmpty() ? "pause" : action, orZero(duration(u, "Monitor")),
        ratio == null ? 0 : ratio, order == null || order.isEmpty() ? "stop-first" : order);
  }

  private static ServiceSpec.Endpoint parseEndpoint(Json.Reader e) {
    String mode = e.string("Mode");
    if (mode == null || mode.isEmpty()) {
      mode = "vip";
    }
    if (!mode.equals("vip") && !mode.equals("dnsrr")) {
      throw invalid("EndpointSpec: invalid resolution mode: " + mode);
    }
    List<ServiceSpec.PortConfig> ports = new ArrayList<>();
    Set<String> seen = new java.util.HashSet<>();
    for (Json.Reader p : e.objects("Ports")) {
      String protocol = p.string("Protocol");
      protocol = protocol == null || protocol.isEmpty() ? "tcp" : protocol;
      if (!Set.of("tcp", "udp", "sctp").contains(protocol)) {
        throw invalid("EndpointSpec: invalid protocol: " + protocol);
      }
      String publishMode = p.string("PublishMode");
      publishMode = publishMode == null || publishMode.isEmpty() ? "ingress" : publishMode;
      if (!publishMode.equals("ingress") && !publishMode.equals("host")) {
        throw invalid("EndpointSpec: invalid publish mode: " + publishMode);
      }
      long target = orZero(p.integer("TargetPort", true));
      long published = orZero(p.integer("PublishedPort", true));
      if (target < 1 || target > 65535 || published > 65535) {
        throw invalid("EndpointSpec: port numbers must be between 1 and 65535");
      }
      if (mode.equals("dnsrr") && publishMode.equals("ingress")) {
        throw invalid("EndpointSpec: port published with ingress mode can't be used with dnsrr mode");
      }
      if (protocol.equals("sctp") && publishMode.equals("ingress")) {
        throw invalid("EndpointSpec: the routing mesh of swarmd forwards tcp and udp; publish sctp with mode=host");
      }
      if (published > 0 && !seen.add(published + "/" + protocol)) {
        throw invalid("EndpointSpec: duplicate published ports provided");
      }
      ports.add(new ServiceSpec.PortConfig(p.string("Name"), protocol, (int) target, (int) published, publishMode));
    }
    return new ServiceSpec.Endpoint(mode, ports);
  }

  /** Fields Docker accepts that swarmd does not implement yet: refused rather than silently dropped. */
  private static void unsupported(Json.Reader r, String where, String... keys) {
    for (String key : keys) {
      JsonNode v = r.raw(key);
      boolean empty = v == null || (v.isContainerNode() && v.isEmpty()) || (v.isBoolean() && !v.asBoolean());
      if (!empty) {
        throw invalid(where + "." + key + " is not supported by swarmd yet");
      }
    }
  }

  /** A duration in nanoseconds; negative ones are refused. */
  private static Long duration(Json.Reader r, String key) {
    Long v = r.integer(key, false);
    if (v != null && v < 0) {
      throw invalid(key + " cannot be negative");
    }
    return v;
  }

  private static ApiException invalid(String message) {
    return new ApiException(400, "rpc error: code = InvalidArgument desc = " + message);
  }

  // ---- rendering ----

  public static ObjectNode render(ServiceEntity.State s, AddressPool pool, boolean insertDefaults) {
    ObjectNode o = Json.object();
    o.put("ID", s.id());
    o.putObject("Version").put("Index", s.version());
    o.put("CreatedAt", Json.time(s.createdAt()));
    o.put("UpdatedAt", Json.time(s.updatedAt()));
    o.set("Spec", spec(s.spec(), insertDefaults));
    if (s.previousSpec() != null) {
      o.set("PreviousSpec", spec(s.previousSpec(), insertDefaults));
    }
    ObjectNode endpoint = o.putObject("Endpoint");
    endpoint.set("Spec", endpointSpec(s.spec().endpoint()));
    if (!s.endpointPorts().isEmpty()) {
      endpoint.set("Ports", ports(s.endpointPorts()));
    }
    if (s.activeVirtualIp() != null) {
      ObjectNode vip = endpoint.putArray("VirtualIPs").addObject();
      vip.put("NetworkID", VirtualIps.NETWORK_ID);
      vip.put("Addr", s.activeVirtualIp() + "/" + pool.subnet().prefixLength());
    }
    if (s.updateStatus() != null) {
      ObjectNode u = o.putObject("UpdateStatus");
      u.put("State", s.updateStatus().state());
      if (s.updateStatus().startedAt() != null) {
        u.put("StartedAt", Json.time(s.updateStatus().startedAt()));
      }
      if (s.updateStatus().completedAt() != null) {
        u.put("CompletedAt", Json.time(s.updateStatus().completedAt()));
      }
      u.put("Message", s.updateStatus().message());
    }
    return o;
  }

  public static ObjectNode spec(ServiceSpec s, boolean insertDefaults) {
    ObjectNode o = Json.object();
    o.put("Name", s.name());
    o.set("Labels", Json.MAPPER.valueToTree(s.labels()));
    ObjectNode tt = o.putObject("TaskTemplate");
    taskSpec(tt, s.task(), insertDefaults);
    ObjectNode mode = o.putObject("Mode");
    if (s.mode().kind() == ServiceSpec.ModeKind.GLOBAL) {
      mode.putObject("Global");
    } else {
      mode.putObject("Replicated").put("Replicas", s.mode().replicas());
    }
    ServiceSpec.UpdatePolicy defaults = new ServiceSpec.UpdatePolicy(1, 0, "pause", DEFAULT_DELAY, 0, "stop-first");
    ServiceSpec.UpdatePolicy update = s.update() != null ? s.update() : insertDefaults ? defaults : null;
    ServiceSpec.UpdatePolicy rollback = s.rollback() != null ? s.rollback() : insertDefaults ? defaults : null;
    if (update != null) {
      o.set("UpdateConfig", updatePolicy(update));
    }
    if (rollback != null) {
      o.set("RollbackConfig", updatePolicy(rollback));
    }
    o.set("EndpointSpec", endpointSpec(s.endpoint()));
    return o;
  }

  public static void taskSpec(ObjectNode tt, ServiceSpec.TaskSpec t, boolean insertDefaults) {
    ServiceSpec.ContainerSpec c = t.container();
    ObjectNode cs = tt.putObject("ContainerSpec");
    cs.put("Image", c.image());
    if (!c.labels().isEmpty()) {
      cs.set("Labels", Json.MAPPER.valueToTree(c.labels()));
    }
    putList(cs, "Command", c.command());
    putList(cs, "Args", c.args());
    putString(cs, "Hostname", c.hostname());
    putList(cs, "Env", c.env());
    putString(cs, "Dir", c.dir());
    putString(cs, "User", c.user());
    if (c.tty()) {
      cs.put("TTY", true);
    }
    if (c.openStdin()) {
      cs.put("OpenStdin", true);
    }
    if (c.init() != null) {
      cs.put("Init", c.init());
    }
    putString(cs, "StopSignal", c.stopSignal());
    if (c.healthcheck() != null) {
      cs.set("Healthcheck", health(c.healthcheck()));
    }
    Long grace = c.stopGracePeriod() != null ? c.stopGracePeriod() : insertDefaults ? DEFAULT_GRACE : null;
    if (grace != null) {
      cs.put("StopGracePeriod", grace);
    }
    cs.putObject("DNSConfig");
    cs.put("Isolation", "default");
    ObjectNode res = tt.putObject("Resources");
    ObjectNode limits = res.putObject("Limits");
    ObjectNode reservations = res.putObject("Reservations");
    ServiceSpec.Resources r = t.resources();
    if (r != null) {
      putPositive(limits, "NanoCPUs", r.limitNanoCpus());
      putPositive(limits, "MemoryBytes", r.limitMemoryBytes());
      putPositive(reservations, "NanoCPUs", r.reserveNanoCpus());
      putPositive(reservations, "MemoryBytes", r.reserveMemoryBytes());
    }
    ServiceSpec.RestartPolicy rp = t.restart();
    if (rp != null || insertDefaults) {
      ObjectNode restart = tt.putObject("RestartPolicy");
      String condition = rp == null || rp.condition() == null ? (insertDefaults ? "any" : null) : rp.condition();
      Long delay = rp == null || rp.delay() == null ? (insertDefaults ? DEFAULT_DELAY : null) : rp.delay();
      Long max = rp == null || rp.maxAttempts() == null ? (insertDefaults ? 0L : null) : rp.maxAttempts();
      putString(restart, "Condition", condition);
      if (delay != null) {
        restart.put("Delay", delay);
      }
      if (max != null) {
        restart.put("MaxAttempts", max);
      }
      if (rp != null && rp.window() != null) {
        restart.put("Window", rp.window());
      }
    }
    ObjectNode placement = tt.putObject("Placement");
    if (t.placement() != null && !t.placement().constraints().isEmpty()) {
      placement.set("Constraints", Json.MAPPER.valueToTree(t.placement().constraints()));
    }
    if (t.placement() != null && t.placement().maxReplicas() > 0) {
      placement.put("MaxReplicas", t.placement().maxReplicas());
    }
    tt.put("ForceUpdate", t.forceUpdate());
    tt.put("Runtime", "container");
  }

  private static ObjectNode health(ServiceSpec.HealthConfig h) {
    ObjectNode o = Json.object();
    if (!h.test().isEmpty()) {
      o.set("Test", Json.MAPPER.valueToTree(h.test()));
    }
    putPositive(o, "Interval", h.interval());
    putPositive(o, "Timeout", h.timeout());
    putPositive(o, "StartPeriod", h.startPeriod());
    putPositive(o, "StartInterval", h.startInterval());
    putPositive(o, "Retries", h.retries());
    return o;
  }

  private static ObjectNode updatePolicy(ServiceSpec.UpdatePolicy u) {
    ObjectNode o = Json.object();
    o.put("Parallelism", u.parallelism());
    if (u.delay() > 0) {
      o.put("Delay", u.delay());
    }
    o.put("FailureAction", u.failureAction());
    if (u.monitor() > 0) {
      o.put("Monitor", u.monitor());
    }
    o.put("MaxFailureRatio", u.maxFailureRatio());
    o.put("Order", u.order());
    return o;
  }

  private static ObjectNode endpointSpec(ServiceSpec.Endpoint e) {
    ObjectNode o = Json.object();
    o.put("Mode", e.mode());
    if (!e.ports().isEmpty()) {
      o.set("Ports", ports(e.ports()));
    }
    return o;
  }

  private static ArrayNode ports(List<ServiceSpec.PortConfig> ports) {
    ArrayNode a = Json.array();
    for (ServiceSpec.PortConfig p : ports) {
      ObjectNode o = a.addObject();
      putString(o, "Name", p.name());
      o.put("Protocol", p.protocol());
      o.put("TargetPort", p.targetPort());
      o.put("PublishedPort", p.publishedPort());
      o.put("PublishMode", p.publishMode());
    }
    return a;
  }

  private static void putList(ObjectNode o, String key, List<String> v) {
    if (v != null && !v.isEmpty()) {
      o.set(key, Json.MAPPER.valueToTree(v));
    }
  }

  private static void putString(ObjectNode o, String key, String v) {
    if (v != null && !v.isEmpty()) {
      o.put(key, v);
    }
  }

  private static void putPositive(ObjectNode o, String key, long v) {
    if (v > 0) {
      o.put(key, v);
    }
  }

  private static <T> List<T> orEmpty(List<T> l) {
    return l == null ? List.of() : l;
  }

  private static Map<String, String> orEmpty(Map<String, String> m) {
    return m == null ? Map.of() : new LinkedHashMap<>(m);
  }

  private static long orZero(Long v) {
    return v == null ? 0 : v;
  }
}
