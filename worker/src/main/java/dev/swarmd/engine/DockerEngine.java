package dev.swarmd.engine;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.command.PullImageResultCallback;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.exception.NotModifiedException;
import com.github.dockerjava.api.model.Event;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.InternetProtocol;
import com.github.dockerjava.api.model.Network;
import com.github.dockerjava.api.model.Ports;
import com.github.dockerjava.api.model.HealthCheck;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Info;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import com.github.dockerjava.transport.DockerHttpClient;
import dev.swarmd.protocol.Cidr;
import dev.swarmd.protocol.NodeDescription;
import dev.swarmd.protocol.ServiceSpec;
import dev.swarmd.protocol.TaskAssignment;
import java.io.IOException;
import java.io.InputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The Docker engine through docker-java's httpclient5 transport. */
public final class DockerEngine implements Engine {
  private static final Logger LOG = LoggerFactory.getLogger(DockerEngine.class);
  private static final String API_VERSION = "1.41";
  private static final String BRIDGE_NAME_OPTION = "com.docker.network.bridge.name";
  private static final String DEFAULT_BRIDGE = "docker0";

  private final DockerHttpClient http;
  private final DockerClient docker;

  public DockerEngine(URI engine) {
    DockerClientConfig config = DefaultDockerClientConfig.createDefaultConfigBuilder()
        .withDockerHost(engine.toString())
        .withDockerTlsVerify(false)
        .withApiVersion(API_VERSION)
        .build();
    this.http = new ApacheDockerHttpClient.Builder()
        .dockerHost(config.getDockerHost())
        .maxConnections(64)
        .connectionTimeout(Duration.ofSeconds(10))
        .build();
    this.docker = DockerClientImpl.getInstance(config, http);
  }

  @Override
  public NodeDescription describe(String hostname) {
    Info info = docker.infoCmd().exec();
    Map<String, String> labels = new HashMap<>();
    if (info.getLabels() != null) {
      for (String l : info.getLabels()) {
        int eq = l.indexOf('=');
        labels.put(eq < 0 ? l : l.substring(0, eq), eq < 0 ? "" : l.substring(eq + 1));
      }
    }
    long cpus = info.getNCPU() == null ? 0 : info.getNCPU() * 1_000_000_000L;
    long memory = info.getMemTotal() == null ? 0 : info.getMemTotal();
    return new NodeDescription(hostname, info.getOsType(), info.getArchitecture(), cpus, memory,
        info.getServerVersion(), labels);
  }

  @Override
  public String bridgeGateway() {
    Network bridge;
    try {
      bridge = docker.inspectNetworkCmd().withNetworkId("bridge").exec();
    } catch (NotFoundException e) {
      return null;
    }
    String name = bridge.getOptions() == null ? null : bridge.getOptions().get(BRIDGE_NAME_OPTION);
    return gatewayOf(ipv4Configs(bridge), interfaceAddress(name == null ? DEFAULT_BRIDGE : name));
  }

  /**
   * A fresh dockerd's default bridge may report its subnet without a gateway: the address then
   * comes from the interface, where the engine put it, or, with no interface to read, is the
   * subnet's first host, which is what the engine assigns.
   */
  static String gatewayOf(List<Network.Ipam.Config> configs, String interfaceAddress) {
    for (Network.Ipam.Config c : configs) {
      if (c.getGateway() != null && !c.getGateway().isEmpty()) {
        return c.getGateway();
      }
    }
    for (Network.Ipam.Config c : configs) {
      if (interfaceAddress != null && Cidr.parse(c.getSubnet()).contains(interfaceAddress)) {
        return interfaceAddress;
      }
    }
    return configs.isEmpty() ? null : Cidr.parse(configs.get(0).getSubnet()).host(1);
  }

  private static List<Network.Ipam.Config> ipv4Configs(Network n) {
    if (n.getIpam() == null || n.getIpam().getConfig() == null) {
      return List.of();
    }
    return n.getIpam().getConfig().stream()
        .filter(c -> c.getSubnet() != null && !c.getSubnet().contains(":"))
        .filter(c -> c.getGateway() == null || !c.getGateway().contains(":"))
        .toList();
  }

  /** The interface's first IPv4 address, or null. */
  private static String interfaceAddress(String name) {
    try {
      NetworkInterface nif = NetworkInterface.getByName(name);
      if (nif == null) {
        return null;
      }
      return nif.inetAddresses().filter(a -> a instanceof Inet4Address).map(InetAddress::getHostAddress)
          .findFirst().orElse(null);
    } catch (SocketException e) {
      return null;
    }
  }

  @Override
  public Map<String, List<String>> networkSubnets() {
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (Network n : docker.listNetworksCmd().exec()) {
      List<String> subnets = ipv4Configs(n).stream().map(Network.Ipam.Config::getSubnet).toList();
      if (!subnets.isEmpty()) {
        out.put(n.getName(), subnets);
      }
    }
    return out;
  }

  @Override
  public String rawInfo() {
    DockerHttpClient.Request req = DockerHttpClient.Request.builder()
        .method(DockerHttpClient.Request.Method.GET).path("/v" + API_VERSION + "/info").build();
    try (DockerHttpClient.Response resp = http.execute(req); InputStream body = resp.getBody()) {
      return new String(body.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("engine /info failed: " + e.getMessage(), e);
    }
  }

  @Override
  public boolean imagePresent(String image) {
    try {
      docker.inspectImageCmd(image).exec();
      return true;
    } catch (NotFoundException e) {
      return false;
    }
  }

  @Override
  public boolean pull(String image) {
    try {
      docker.pullImageCmd(image).exec(new PullImageResultCallback()).awaitCompletion(5, TimeUnit.MINUTES);
      return imagePresent(image);
    } catch (RuntimeException e) {
      LOG.info("pull of {} failed: {}", image, e.getMessage());
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @Override
  public String create(TaskAssignment task, String nodeId, String hostname, String nodeAddr, List<String> dns) {
    ServiceSpec.ContainerSpec c = task.spec().container();
    Map<String, String> labels = new HashMap<>();
    if (c.labels() != null) {
      labels.putAll(c.labels());
    }
    labels.put(SwarmLabels.SERVICE_ID, task.serviceId());
    labels.put(SwarmLabels.SERVICE_NAME, task.serviceName());
    labels.put(SwarmLabels.TASK, "");
    labels.put(SwarmLabels.TASK_ID, task.taskId());
    labels.put(SwarmLabels.TASK_NAME, task.containerName());
    labels.put(SwarmLabels.NODE_ID, nodeId);
    labels.put(SwarmLabels.HOSTNAME, hostname);

    HostConfig host = HostConfig.newHostConfig();
    if (!dns.isEmpty()) {
      host.withDns(dns);
    }
    if (c.init() != null) {
      host.withInit(c.init());
    }
    ServiceSpec.Resources r = task.spec().resources();
    if (r != null) {
      if (r.limitMemoryBytes() > 0) {
        host.withMemory(r.limitMemoryBytes());
      }
      if (r.limitNanoCpus() > 0) {
        host.withNanoCPUs(r.limitNanoCpus());
      }
    }
    List<ExposedPort> exposed = new ArrayList<>();
    Ports bindings = new Ports();
    for (ServiceSpec.PortConfig p : task.endpointPorts()) {
      ExposedPort e = new ExposedPort(p.targetPort(), InternetProtocol.parse(p.protocol()));
      exposed.add(e);
      boolean fixed = p.publishMode().equals("host") && p.publishedPort() > 0;
      bindings.bind(e, fixed ? Ports.Binding.bindIpAndPort(nodeAddr, p.publishedPort()) : Ports.Binding.bindIp(nodeAddr));
    }
    if (!exposed.isEmpty()) {
      host.withPortBindings(bindings);
    }
    CreateContainerCmd cmd = docker.createContainerCmd(c.image())
        .withName(task.containerName())
        .withLabels(labels)
        .withHostConfig(host)
        .withTty(c.tty())
        .withStdinOpen(c.openStdin());
    if (!exposed.isEmpty()) {
      cmd.withExposedPorts(exposed);
    }
    if (c.command() != null && !c.command().isEmpty()) {
      cmd.withEntrypoint(c.command());
    }
    if (c.args() != null && !c.args().isEmpty()) {
      cmd.withCmd(c.args());
    }
    if (c.env() != null && !c.env().isEmpty()) {
      cmd.withEnv(c.env());
    }
    if (c.dir() != null && !c.dir().isEmpty()) {
      cmd.withWorkingDir(c.dir());
    }
    if (c.user() != null && !c.user().isEmpty()) {
      cmd.withUser(c.user());
    }
    if (c.hostname() != null && !c.hostname().isEmpty()) {
      cmd.withHostName(c.hostname());
    }
    if (c.stopSignal() != null && !c.stopSignal().isEmpty()) {
      cmd.withStopSignal(c.stopSignal());
    }
    if (c.healthcheck() != null) {
      cmd.withHealthcheck(healthCheck(c.healthcheck()));
    }
    try {
      return cmd.exec().getId();
    } catch (ConflictException e) {
      // Created before a crash: the name is the task's, so the container is ours.
      return docker.inspectContainerCmd(task.containerName()).exec().getId();
    }
  }

  /** Zero fields are left out: the engine then takes the image's value, as Docker's executor does. */
  private static HealthCheck healthCheck(ServiceSpec.HealthConfig h) {
    HealthCheck hc = new HealthCheck();
    if (h.test() != null && !h.test().isEmpty()) {
      hc.withTest(h.test());
    }
    if (h.interval() > 0) {
      hc.withInterval(h.interval());
    }
    if (h.timeout() > 0) {
      hc.withTimeout(h.timeout());
    }
    if (h.startPeriod() > 0) {
      hc.withStartPeriod(h.startPeriod());
    }
    if (h.startInterval() > 0) {
      hc.withStartInterval(h.startInterval());
    }
    if (h.retries() > 0) {
      hc.withRetries(h.retries());
    }
    return hc;
  }

  @Override
  public void start(String containerId) {
    try {
      docker.startContainerCmd(containerId).exec();
    } catch (NotModifiedException e) {
      LOG.debug("container {} was already running", containerId);
    }
  }

  @Override
  public void stop(String containerId, long gracePeriodNanos) {
    try {
      docker.stopContainerCmd(containerId).withTimeout((int) Math.max(0, gracePeriodNanos / 1_000_000_000L)).exec();
    } catch (NotFoundException | NotModifiedException e) {
      LOG.debug("container {} was not running: {}", containerId, e.getMessage());
    }
  }

  @Override
  public Integer stopAndRemove(String containerId, long gracePeriodNanos) {
    stop(containerId, gracePeriodNanos);
    // Docker's die event and the task's status carry the exit code of a container stopped on purpose too.
    Integer exitCode = null;
    try {
      exitCode = inspect(containerId).map(c -> (int) c.exitCode()).orElse(null);
    } catch (RuntimeException e) {
      LOG.debug("container {}: no exit code ({})", containerId, e.toString());
    }
    try {
      docker.removeContainerCmd(containerId).withForce(true).exec();
    } catch (NotFoundException e) {
      LOG.debug("container {} was already removed", containerId);
    }
    return exitCode;
  }

  @Override
  public Optional<Container> inspect(String containerId) {
    try {
      InspectContainerResponse r = docker.inspectContainerCmd(containerId).exec();
      InspectContainerResponse.ContainerState s = r.getState();
      String taskId = r.getConfig().getLabels() == null ? null : r.getConfig().getLabels().get(SwarmLabels.TASK_ID);
      String health = s.getHealth() == null || "none".equals(s.getHealth().getStatus()) ? null
          : s.getHealth().getStatus();
      return Optional.of(new Container(r.getId(), taskId, s.getStatus(), Boolean.TRUE.equals(s.getRunning()),
          s.getExitCodeLong() == null ? 0 : s.getExitCodeLong(), s.getPid() == null ? 0 : s.getPid().intValue(),
          health, hostPorts(r), address(r)));
    } catch (NotFoundException e) {
      return Optional.empty();
    }
  }

  @Override
  public List<Container> list(String nodeId) {
    List<Container> out = new ArrayList<>();
    for (com.github.dockerjava.api.model.Container c : docker.listContainersCmd().withShowAll(true)
        .withLabelFilter(Map.of(SwarmLabels.NODE_ID, nodeId)).exec()) {
      boolean running = "running".equals(c.getState());
      out.add(new Container(c.getId(), c.getLabels().get(SwarmLabels.TASK_ID), c.getState(), running, -1, 0,
          running ? health(c.getStatus()) : null, Map.of(), null));
    }
    return out;
  }

  private static Map<String, Integer> hostPorts(InspectContainerResponse r) {
    Map<String, Integer> out = new HashMap<>();
    if (r.getNetworkSettings() == null || r.getNetworkSettings().getPorts() == null) {
      return out;
    }
    r.getNetworkSettings().getPorts().getBindings().forEach((port, bound) -> {
      if (bound != null && bound.length > 0 && bound[0].getHostPortSpec() != null) {
        out.put(port.getPort() + "/" + port.getProtocol().toString(), Integer.parseInt(bound[0].getHostPortSpec()));
      }
    });
    return out;
  }

  /** The container's IP address on the first network that gave it one (the bridge, for swarmd's tasks). */
  private static String address(InspectContainerResponse r) {
    if (r.getNetworkSettings() == null || r.getNetworkSettings().getNetworks() == null) {
      return null;
    }
    return r.getNetworkSettings().getNetworks().values().stream()
        .map(n -> n.getIpAddress())
        .filter(ip -> ip != null && !ip.isEmpty())
        .findFirst().orElse(null);
  }

  /** The health in a container list's status, as `docker ps` shows it: "Up 3 seconds (healthy)". */
  static String health(String status) {
    if (status == null) {
      return null;
    }
    if (status.endsWith("(healthy)")) {
      return "healthy";
    }
    if (status.endsWith("(unhealthy)")) {
      return "unhealthy";
    }
    return status.endsWith("(health: starting)") ? "starting" : null;
  }

  @Override
  public AutoCloseable onContainerExit(String nodeId, Consumer<String> callback) {
    AtomicBoolean closed = new AtomicBoolean();
    Thread watcher = new Thread(() -> {
      while (!closed.get()) {
        try (ResultCallback.Adapter<Event> cb = docker.eventsCmd()
            .withEventFilter("die", "health_status")
            .withLabelFilter(Map.of(SwarmLabels.NODE_ID, nodeId))
            .exec(new ResultCallback.Adapter<>() {
              @Override
              public void onNext(Event e) {
                callback.accept(downTask(e));
              }
            })) {
          cb.awaitCompletion();
        } catch (Exception e) {
          if (!closed.get()) {
            LOG.warn("engine event stream broke, reconnecting: {}", e.toString());
          }
        }
        if (!closed.get()) {
          callback.accept(null);
          sleepQuietly();
        }
      }
    }, "engine-events");
    watcher.setDaemon(true);
    watcher.start();
    return () -> {
      closed.set(true);
      watcher.interrupt();
    };
  }

  /** The task of a container that died or turned unhealthy; null for other events. */
  static String downTask(Event e) {
    String status = e.getStatus() == null ? e.getAction() : e.getStatus();
    boolean down = "die".equals(status) || (status != null && status.endsWith("unhealthy"));
    Map<String, String> attributes = e.getActor() == null ? null : e.getActor().getAttributes();
    return down && attributes != null ? attributes.get(SwarmLabels.TASK_ID) : null;
  }

  private static void sleepQuietly() {
    try {
      Thread.sleep(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
