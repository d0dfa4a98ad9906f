package dev.swarmd.daemon;

import dev.swarmd.api.ApiServer;
import dev.swarmd.dns.ResolvConf;
import dev.swarmd.engine.DockerEngine;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The swarmd node daemon: the Docker API for swarm mode, beside a Docker engine. */
@Command(name = "swarmd", mixinStandardHelpOptions = true, version = "swarmd 0.1.0", subcommands = {Audit.class, Cleanup.class},
    description = "Runs a Docker Swarm-mode node beside a Docker engine. Point the docker CLI at it with "
        + "DOCKER_HOST=tcp://127.0.0.1:2375.")
public final class Swarmd implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(Swarmd.class);

  @Option(names = {"-H", "--host"}, paramLabel = "tcp://ADDR:PORT",
      description = "Where the Docker API listens, a loopback address (default: ${DEFAULT-VALUE}).")
  String host = "tcp://127.0.0.1:2375";

  @Option(names = "--data-root", paramLabel = "DIR",
      description = "Where the node keeps its journal, snapshots and certificates (default: ${DEFAULT-VALUE}).")
  Path dataRoot = Path.of("/var/lib/swarmd");

  @Option(names = "--hostname", paramLabel = "NAME",
      description = "The node's hostname in the swarm (default: this machine's).")
  String hostname;

  @Option(names = "--engine", paramLabel = "URI",
      description = "The Docker engine that runs this node's containers (default: ${DEFAULT-VALUE}).")
  URI engine = URI.create("unix:///var/run/docker.sock");

  /** How the routing mesh forwards. */
  enum MeshForwarding { kernel, userspace }

  @Option(names = "--mesh-forwarding", paramLabel = "MODE",
      description = "How the routing mesh forwards: kernel (iptables DNAT where the node can, the default) or "
          + "userspace (through the daemon, as PROXY protocol ports always are). Valid: ${COMPLETION-CANDIDATES}.")
  MeshForwarding meshForwarding = MeshForwarding.kernel;

  @Option(names = "--dns-port", paramLabel = "PORT",
      description = "Where the node's DNS answers load balancers and the host: this UDP and TCP port on the node's "
          + "advertise address (default: ${DEFAULT-VALUE}). Containers reach the same DNS at the swarm's resolver "
          + "address (the first of its address pool's subnet), port 53, through a nat rule: no port 53 is taken on "
          + "the host.")
  int dnsPort = 7953;

  @Option(names = "--resolv-conf", paramLabel = "FILE",
      description = "The host's resolvers: names outside the swarm go to them, and the swarm's address pool stays "
          + "clear of them (default: ${DEFAULT-VALUE}).")
  Path resolvConf = ResolvConf.HOST;

  public static void main(String[] args) {
    System.exit(new CommandLine(new Swarmd()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    URI api = parseHost(host);
    if (hostname == null || hostname.isBlank()) {
      hostname = InetAddress.getLocalHost().getHostName();
    }
    if (!hostname.matches("[A-Za-z0-9][A-Za-z0-9.-]{0,62}")) {
      throw new CommandLine.ParameterException(new CommandLine(this), "invalid --hostname: " + hostname);
    }
    if (!engine.getScheme().equals("unix") && !engine.getScheme().equals("tcp")) {
      throw new CommandLine.ParameterException(new CommandLine(this),
          "--engine must be unix:///path or tcp://host:port, got " + engine);
    }
    if (dnsPort < 1 || dnsPort > 65535) {
      throw new CommandLine.ParameterException(new CommandLine(this), "invalid --dns-port: " + dnsPort);
    }
    if (!Files.isReadable(resolvConf)) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--resolv-conf " + resolvConf
          + ": not a readable file");
    }
    Files.createDirectories(dataRoot);
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "swarmd");
    LocalNode node = new LocalNode(dataRoot.toAbsolutePath(), hostname, new DockerEngine(engine), api.getHost(), system,
        new LocalNode.NetworkOptions(meshForwarding == MeshForwarding.kernel, dnsPort, resolvConf));
    node.resume();
    ServerBinding binding = new ApiServer(system, node).bind(api.getHost(), api.getPort())
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    LOG.info("swarmd {} listening on {} (data root {}, engine {})", hostname, binding.localAddress(), dataRoot,
        engine);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      LOG.info("swarmd stopping");
      binding.unbind();
      node.shutdown();
      system.terminate();
    }, "swarmd-shutdown"));
    system.getWhenTerminated().toCompletableFuture().get();
    return 0;
  }

  private URI parseHost(String h) {
    URI u;
    try {
      u = URI.create(h);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(new CommandLine(this), "invalid -H " + h + ": " + e.getMessage());
    }
    if (!"tcp".equals(u.getScheme()) || u.getHost() == null || u.getPort() < 1) {
      throw new CommandLine.ParameterException(new CommandLine(this),
          "invalid -H " + h + ": expected tcp://ADDR:PORT");
    }
    // The API has no TLS yet, and whoever reaches it controls the engine: loopback only.
    try {
      if (!InetAddress.getByName(u.getHost()).isLoopbackAddress()) {
        throw new CommandLine.ParameterException(new CommandLine(this), "-H " + h
            + ": the Docker API is served on loopback addresses only until it supports TLS");
      }
    } catch (java.net.UnknownHostException e) {
      throw new CommandLine.ParameterException(new CommandLine(this), "invalid -H " + h + ": unknown host");
    }
    return u;
  }
}
