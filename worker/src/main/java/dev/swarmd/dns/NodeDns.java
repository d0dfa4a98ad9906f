package dev.swarmd.dns;

import dev.swarmd.protocol.ServiceName;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * The node's DNS: one server per address it answers on (the node's own address and a port of the
 * swarm's own, for load balancers in front of the swarm; the node's containers reach the same server
 * through the swarm's resolver address), all with the swarm's current table. Names outside the swarm
 * go to the host's resolvers. An address that cannot be bound is tried again every few seconds.
 */
public final class NodeDns extends AbstractBehavior<NodeDns.Command> {
  private static final Duration RETRY = Duration.ofSeconds(10);

  public sealed interface Command {}

  /** The swarm's whole table; sending the same one again changes nothing. */
  public record SetNames(List<ServiceName> names) implements Command {
    public SetNames {
      names = List.copyOf(names);
    }
  }

  private record Retry() implements Command {}

  private final Path resolvConf;
  private final Map<InetSocketAddress, DnsServer> servers = new LinkedHashMap<>();
  private final List<InetSocketAddress> unbound = new ArrayList<>();
  private final List<InetSocketAddress> warned = new ArrayList<>();
  private List<ServiceName> names = List.of();
  private DnsTable table = DnsTable.EMPTY;

  /** resolvConf: the host's resolv.conf, whose nameservers answer names outside the swarm. */
  public static Behavior<Command> create(List<InetSocketAddress> addresses, Path resolvConf) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new NodeDns(ctx, timers, addresses, resolvConf)));
  }

  private NodeDns(ActorContext<Command> ctx, TimerScheduler<Command> timers, List<InetSocketAddress> addresses,
      Path resolvConf) {
    super(ctx);
    this.resolvConf = resolvConf;
    unbound.addAll(addresses);
    bindUnbound();
    timers.startTimerWithFixedDelay(new Retry(), RETRY);
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(SetNames.class, this::setNames)
        .onMessage(Retry.class, r -> {
          bindUnbound();
          return this;
        })
        .onSignal(PostStop.class, s -> stopped())
        .build();
  }

  private Behavior<Command> setNames(SetNames m) {
    if (!m.names().equals(names)) {
      names = m.names();
      table = DnsTable.of(names);
      servers.values().forEach(s -> s.setTable(table));
    }
    return this;
  }

  private void bindUnbound() {
    unbound.removeIf(address -> {
      try {
        DnsServer server = DnsServer.start(address, table, DnsServer.hostResolvers(resolvConf, address));
        servers.put(address, server);
        return true;
      } catch (IOException e) {
        if (!warned.contains(address)) {
          warned.add(address);
          getContext().getLog().warn("dns: not answering on {} yet ({}); trying again every {} s", address,
              e.getMessage(), RETRY.toSeconds());
        }
        return false;
      }
    });
  }

  private Behavior<Command> stopped() {
    servers.values().forEach(DnsServer::close);
    servers.clear();
    return this;
  }
}
