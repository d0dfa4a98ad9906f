package dev.swarmd.ingress;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * The kernel half of a node's mesh as an iptables-restore script for the nat table: each frontend
 * (an address, port and protocol the node serves) is DNATed to its targets in turn, and the
 * connections it DNATs are masqueraded, so that the replies come back through this node and a
 * target on the engine's bridge can answer a client on loopback. The script replaces both chains
 * whole, in one commit: new connections see either the old table or the new one, and connections
 * already made keep their target (conntrack), so those in flight to a task leaving the table finish.
 */
record NatRules(String chain, String postChain, List<Frontend> frontends) {
  /** iptables refuses longer chain names. */
  static final int MAX_CHAIN = 28;

  /** Targets are IPv4 socket addresses: the nat table of iptables is IPv4 only. */
  record Frontend(String address, int port, String protocol, List<InetSocketAddress> targets) {
    Frontend {
      Objects.requireNonNull(address, "address");
      targets = List.copyOf(targets);
    }
  }

  NatRules {
    if (chain.length() > MAX_CHAIN || postChain.length() > MAX_CHAIN) {
      throw new IllegalArgumentException("chain name longer than " + MAX_CHAIN + ": " + chain + ", " + postChain);
    }
    frontends = List.copyOf(frontends);
  }

  /**
   * Round robin with the statistic match: the first of n rules takes every n-th new connection, the
   * next every (n-1)-th of the rest, and so on; the nat table only sees a connection's first packet.
   */
  String script() {
    return script(List.of());
  }

  /**
   * The empty chains, hooked into PREROUTING and OUTPUT (the DNAT chain) and POSTROUTING (the
   * masquerade chain) by rules that carry the owner's comment: a node's set-up, in one commit.
   */
  String setUp(List<String> ownerComment) {
    String owner = ownerComment.stream().map(a -> a.contains(" ") ? "\"" + a + "\"" : a)
        .collect(Collectors.joining(" "));
    return new NatRules(chain, postChain, List.of()).script(List.of(
        "-I PREROUTING 1 " + owner + " -j " + chain,
        "-I OUTPUT 1 " + owner + " -j " + chain,
        "-I POSTROUTING 1 " + owner + " -j " + postChain));
  }

  private String script(List<String> hooks) {
    StringBuilder s = new StringBuilder("*nat\n");
    s.append(':').append(chain).append(" - [0:0]\n");
    s.append(':').append(postChain).append(" - [0:0]\n");
    s.append("-F ").append(chain).append('\n');
    s.append("-F ").append(postChain).append('\n');
    for (Frontend f : frontends) {
      String match = "-d " + f.address() + "/32 -p " + f.protocol() + " -m " + f.protocol() + " --dport " + f.port();
      int n = f.targets().size();
      for (int i = 0; i < n; i++) {
        InetSocketAddress t = f.targets().get(i);
        s.append("-A ").append(chain).append(' ').append(match);
        if (i < n - 1) {
          s.append(" -m statistic --mode nth --every ").append(n - i).append(" --packet 0");
        }
        s.append(" -j DNAT --to-destination ").append(t.getAddress().getHostAddress()).append(':')
            .append(t.getPort()).append('\n');
      }
      if (n > 0) {
        s.append("-A ").append(postChain).append(" -p ").append(f.protocol())
            .append(" -m conntrack --ctstate DNAT --ctorigdst ").append(f.address())
            .append("/32 --ctorigdstport ").append(f.port()).append(" -j MASQUERADE\n");
      }
    }
    hooks.forEach(h -> s.append(h).append('\n'));
    return s.append("COMMIT\n").toString();
  }
}
