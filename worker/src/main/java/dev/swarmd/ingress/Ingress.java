package dev.swarmd.ingress;

import dev.swarmd.protocol.CborSerializable;
import dev.swarmd.protocol.IngressRoute;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.UnresolvedAddressException;
import java.nio.channels.UnsupportedAddressTypeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The node's share of the routing mesh: serves every published port of every service on the node's
 * address, and every virtual IP's target ports, and forwards each TCP connection or UDP flow to one
 * of the service's tasks, wherever it runs. Traffic goes through the kernel when the node has a
 * {@link KernelPath} (DNAT, round robin per connection or flow), except ports that send a PROXY
 * protocol header; those, and all of it on a node without, are forwarded in user space, by listeners
 * on NIO event loops of the actor's own. The actor only keeps the rules and the bound ports in line
 * with the desired routes; no byte goes through it.
 */
public final class Ingress extends AbstractBehavior<Ingress.Command> {
  public sealed interface Command {}

  /** The whole desired set of routes; what is not in it is unbound. Sending the same set again changes nothing. */
  public record SetRoutes(List<IngressRoute> routes) implements Command {
    public SetRoutes {
      routes = List.copyOf(routes);
    }
  }

  public record GetStatus(ActorRef<Status> replyTo) implements Command {}

  /** Ports being served, and ports whose bind failed (retried on the next {@link SetRoutes}). */
  public record Status(List<Bound> bound, List<Failed> failed) implements CborSerializable {
    public Status {
      bound = List.copyOf(bound);
      failed = List.copyOf(failed);
    }
  }

  /**
   * {@code backends}: how many backends new connections and flows are spread over; {@code kernel}:
   * forwarded by the kernel's rules rather than a listener of the ingress.
   */
  public record Bound(int publishedPort, String protocol, String serviceName, int backends, boolean kernel)
      implements CborSerializable {}

  public record Failed(int publishedPort, String protocol, String serviceName, String error)
      implements CborSerializable {}

  public static final Duration DEFAULT_UDP_FLOW_IDLE = Duration.ofSeconds(30);

  /**
   * One loop per two cores: the work is nearly all kernel time in socket calls, and the clients and the
   * tasks need the other cores. On the 2-core machine one loop and two came out even under wrk.
   */
  static final int DEFAULT_LOOPS = Math.max(1, Runtime.getRuntime().availableProcessors() / 2);

  /** Where a route listens: a virtual IP's address, or the node's own. */
  private record PortKey(String host, int port, String protocol) {
    static PortKey of(IngressRoute route, String nodeHost) {
      return new PortKey(route.bindAddress() == null ? nodeHost : route.bindAddress(), route.publishedPort(),
          route.protocol());
    }
  }

  private final String bindHost;
  private final long udpIdleNanos;
  private final List<EventLoop> loops;
  private final Map<PortKey, Listener> listeners = new HashMap<>();
  private final Map<PortKey, Failed> failures = new HashMap<>();
  private final KernelPath.Handle kernel;
  private Map<PortKey, IngressRoute> kernelRoutes = Map.of();
  private int nextLoop;

  /** Forwards everything in user space. */
  public static Behavior<Command> create(String bindHost) {
    return create(bindHost, (KernelPath) null);
  }

  /** kernel: the node's kernel path, attached by this ingress; null to forward everything in user space. */
  public static Behavior<Command> create(String bindHost, KernelPath kernel) {
    return create(bindHost, kernel, DEFAULT_UDP_FLOW_IDLE, DEFAULT_LOOPS);
  }

  /** {@code udpFlowIdle}: how long a UDP flow lives without a datagram either way. */
  public static Behavior<Command> create(String bindHost, Duration udpFlowIdle) {
    return create(bindHost, null, udpFlowIdle, DEFAULT_LOOPS);
  }

  static Behavior<Command> create(String bindHost, KernelPath kernel, Duration udpFlowIdle, int loops) {
    Objects.requireNonNull(bindHost, "bindHost");
    if (udpFlowIdle.isNegative() || udpFlowIdle.isZero() || loops < 1) {
      throw new IllegalArgumentException("udpFlowIdle must be positive and loops at least 1");
    }
    return Behaviors.setup(ctx -> new Ingress(ctx, bindHost, kernel == null ? null : kernel.attach(),
        udpFlowIdle.toNanos(), startLoops(ctx, loops)));
  }

  private static List<EventLoop> startLoops(ActorContext<Command> ctx, int count) throws IOException {
    List<EventLoop> loops = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      loops.add(new EventLoop("ingress-" + ctx.getSelf().path().name() + "-" + i));
    }
    return List.copyOf(loops);
  }

  private Ingress(ActorContext<Command> ctx, String bindHost, KernelPath.Handle kernel, long udpIdleNanos,
      List<EventLoop> loops) {
    super(ctx);
    this.bindHost = bindHost;
    this.kernel = kernel;
    this.udpIdleNanos = udpIdleNanos;
    this.loops = loops;
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(SetRoutes.class, this::setRoutes)
        .onMessage(GetStatus.class, this::status)
        .onSignal(PostStop.class, s -> stopped())
        .build();
  }

  private Behavior<Command> setRoutes(SetRoutes m) {
    Map<PortKey, IngressRoute> desired = new LinkedHashMap<>();
    for (IngressRoute route : m.routes()) {
      IngressRoute clash = desired.putIfAbsent(PortKey.of(route, bindHost), route);
      if (clash != null) {
        getContext().getLog().debug("ingress: {}/{} wanted by {} and {}; {} keeps it", route.publishedPort(),
            route.protocol(), clash.serviceName(), route.serviceName(), clash.serviceName());
      }
    }
    Map<PortKey, IngressRoute> inKernel = new LinkedHashMap<>();
    desired.forEach((key, route) -> {
      if (inKernel(key, route)) {
        inKernel.put(key, route);
      }
    });
    desired.keySet().removeAll(inKernel.keySet());
    listeners.entrySet().removeIf(e -> {
      if (desired.containsKey(e.getKey())) {
        return false;
      }
      unbind(e.getKey(), e.getValue());
      return true;
    });
    failures.keySet().retainAll(desired.keySet());
    desired.forEach(this::apply);
    if (!inKernel.equals(kernelRoutes)) {
      logKernelChanges(inKernel);
      kernelRoutes = Map.copyOf(inKernel);
      kernel.apply(inKernel.entrySet().stream().map(e -> frontend(e.getKey(), e.getValue())).toList());
    }
    return this;
  }

  /** Without a PROXY header, on IPv4 addresses, when the node has a kernel path. */
  private boolean inKernel(PortKey key, IngressRoute route) {
    return kernel != null && !route.proxyProtocol() && KernelPath.isIpv4(key.host())
        && route.backends().stream().allMatch(b -> KernelPath.isIpv4(target(b).getHostString()));
  }

  /**
   * Where this node sends a backend's connections: straight to the container when it is one of the
   * node's own and the kernel may reach it, else to the port its node publishes it on.
   */
  private InetSocketAddress target(IngressRoute.Backend b) {
    if (b.containerAddress() != null && b.host().equals(bindHost) && kernel.containerAddresses()) {
      return new InetSocketAddress(b.containerAddress(), b.containerPort());
    }
    return new InetSocketAddress(b.host(), b.port());
  }

  private NatRules.Frontend frontend(PortKey key, IngressRoute route) {
    return new NatRules.Frontend(key.host(), key.port(), key.protocol(),
        route.backends().stream().map(this::target).toList());
  }

  private void logKernelChanges(Map<PortKey, IngressRoute> now) {
    for (PortKey key : now.keySet()) {
      if (!kernelRoutes.containsKey(key)) {
        getContext().getLog().info("ingress: forwarding {}:{}/{} for service {} in the kernel", key.host(), key.port(),
            key.protocol(), now.get(key).serviceName());
      }
    }
    for (PortKey key : kernelRoutes.keySet()) {
      if (!now.containsKey(key)) {
        getContext().getLog().info("ingress: no longer forwarding {}:{}/{} of service {}", key.host(), key.port(),
            key.protocol(), kernelRoutes.get(key).serviceName());
      }
    }
  }

  private void apply(PortKey key, IngressRoute route) {
    Listener listener = listeners.get(key);
    if (listener == null) {
      bind(key, route);
    } else if (!listener.table().route().equals(route)) {
      listener.update(RouteTable.of(route));
    }
  }

  private void bind(PortKey key, IngressRoute route) {
    RouteTable table = RouteTable.of(route);
    InetSocketAddress address = new InetSocketAddress(key.host(), key.port());
    EventLoop loop = loops.get(nextLoop);
    nextLoop = (nextLoop + 1) % loops.size();
    Listener listener;
    try {
      listener = "tcp".equals(key.protocol())
          ? TcpListener.bind(address, table, loop, loops)
          : UdpListener.bind(address, table, loop, udpIdleNanos);
    } catch (IOException | UnresolvedAddressException | UnsupportedAddressTypeException e) {
      String error = e.toString();
      Failed before = failures.put(key, new Failed(key.port(), key.protocol(), route.serviceName(), error));
      if (before == null || !before.error().equals(error)) {
        getContext().getLog().warn("ingress: cannot bind {}:{}/{} for service {}: {}", key.host(), key.port(),
            key.protocol(), route.serviceName(), error);
      }
      return;
    }
    failures.remove(key);
    listeners.put(key, listener);
    listener.start();
    getContext().getLog().info("ingress: bound {}:{}/{} for service {}", key.host(), key.port(), key.protocol(),
        route.serviceName());
  }

  private void unbind(PortKey key, Listener listener) {
    listener.unbind();
    getContext().getLog().info("ingress: unbound {}:{}/{} of service {}", key.host(), key.port(), key.protocol(),
        listener.table().route().serviceName());
  }

  private Behavior<Command> status(GetStatus m) {
    List<Bound> bound = Stream.concat(
        listeners.entrySet().stream().map(e -> new Bound(e.getKey().port(), e.getKey().protocol(),
            e.getValue().table().route().serviceName(), e.getValue().table().targets().size(), false)),
        kernelRoutes.entrySet().stream().map(e -> new Bound(e.getKey().port(), e.getKey().protocol(),
            e.getValue().serviceName(), e.getValue().backends().size(), true)))
        .sorted(Comparator.comparingInt(Bound::publishedPort).thenComparing(Bound::protocol))
        .toList();
    List<Failed> failed = failures.values().stream()
        .sorted(Comparator.comparingInt(Failed::publishedPort).thenComparing(Failed::protocol))
        .toList();
    m.replyTo().tell(new Status(bound, failed));
    return this;
  }

  private Behavior<Command> stopped() {
    listeners.values().forEach(Listener::unbind);
    listeners.clear();
    if (kernel != null) {
      kernel.release();
    }
    loops.forEach(EventLoop::shutdown);
    return this;
  }
}
