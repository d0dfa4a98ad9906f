package dev.swarmd.dns;

import dev.swarmd.protocol.ServiceName;
import java.io.IOException;
import java.net.InetSocketAddress;
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
 * The node's DNS: one server per address it answers on (the node's own address, for the host and
 * load balancers in front of the swarm; the engine bridge's gateway, for the node's containers), all
 * with the swarm's current table. An address that cannot be bound is tried again every few seconds:
 * several nodes on one machine share one bridge gateway, and whichever binds it answers for all, as
 * every node has the same table.
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

  private final Map<InetSocketAddress, DnsServer> servers = new LinkedHashMap<>();
  private final List<InetSocketAddress> unbound = new ArrayList<>();
  private final List<InetSocketAddress> warned = new ArrayList<>();
  private List<ServiceName> names = List.of();
  private DnsTable table = DnsTable.EMPTY;

  public static Behavior<Command> create(List<InetSocketAddress> addresses) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new NodeDns(ctx, timers, addresses)));
  }

  private NodeDns(ActorContext<Command> ctx, TimerScheduler<Command> timers, List<InetSocketAddress> addresses) {
    super(ctx);
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
        DnsServer server = DnsServer.start(address, table, DnsServer.hostResolvers(address));
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
