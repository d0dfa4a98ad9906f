package dev.swarmd.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which of the host's rules a starting node removes: those of nodes that are gone, and nothing else. */
class LeftoversTest {
  private static final String LIVE = "--comment \"swarmd pid=10 start=1000\"";
  private static final String DEAD = "--comment \"swarmd pid=20 start=2000 localnet\"";
  private static final List<String> NAT = List.of(
      "-P PREROUTING ACCEPT",
      "-N DOCKER",
      "-N SWARMD-127.0.0.2",
      "-N SWARMD-127.0.0.2-POST",
      "-N SWARMD-127.0.0.3",
      "-N SWARMD-127.0.0.3-POST",
      "-N SWARMD-127.0.0.4",
      "-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
      "-A PREROUTING -m comment " + LIVE + " -j SWARMD-127.0.0.2",
      "-A POSTROUTING -m comment " + LIVE + " -j SWARMD-127.0.0.2-POST",
      "-A PREROUTING -m comment " + DEAD + " -j SWARMD-127.0.0.3",
      "-A OUTPUT -m comment " + DEAD + " -j SWARMD-127.0.0.3",
      "-A POSTROUTING -m comment " + DEAD + " -j SWARMD-127.0.0.3-POST",
      // an older swarmd's hook, without an owner
      "-A OUTPUT -j SWARMD-127.0.0.4",
      "-A SWARMD-127.0.0.3 -d 10.0.0.1/32 -p udp -m udp --dport 53 -j DNAT --to-destination 127.0.0.3:7953");
  private static final String GUARD = "-A INPUT ! -s 127.0.0.0/8 -d 127.0.0.0/8 -i docker0 -m conntrack ! --ctstate "
      + "RELATED,ESTABLISHED,DNAT -m comment ";

  private static boolean gone(Iptables.Owner o) {
    return o.pid() == 20;
  }

  @Test
  void theHooksAndChainsOfNodesThatAreGoneGoAndThoseOfLiveNodesStay() {
    Leftovers.Plan p = Leftovers.plan(NAT, List.of(), LeftoversTest::gone);
    assertEquals(List.of(NAT.get(10), NAT.get(11), NAT.get(12), NAT.get(13)), p.natRules());
    assertEquals(List.of("SWARMD-127.0.0.3", "SWARMD-127.0.0.3-POST", "SWARMD-127.0.0.4"), p.chains());
  }

  @Test
  void aDeadNodesGuardGoesButRouteLocalnetStaysOnWhileALiveNodeGuardsTheBridge() {
    List<String> filter = List.of("-P INPUT ACCEPT", GUARD + LIVE + " -j DROP", GUARD + DEAD + " -j DROP",
        "-A INPUT -i docker0 -j ACCEPT");
    Leftovers.Plan p = Leftovers.plan(List.of(), filter, LeftoversTest::gone);
    assertEquals(List.of(filter.get(2)), p.filterRules());
    assertEquals(Set.of(), p.localnetOff());
  }

  @Test
  void theLastGuardOfANodeThatTurnedRouteLocalnetOnTurnsItOff() {
    List<String> filter = List.of(GUARD + DEAD + " -j DROP");
    Leftovers.Plan p = Leftovers.plan(List.of(), filter, LeftoversTest::gone);
    assertEquals(filter, p.filterRules());
    assertEquals(Set.of("docker0"), p.localnetOff());
  }
}
