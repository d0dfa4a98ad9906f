package dev.swarmd.scheduler;

import dev.swarmd.node.NodeEntity;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One placement constraint, as `--constraint node.labels.zone==eu` (== or !=). */
public record Constraint(String key, boolean equal, String value) {
  private static final Pattern FORM = Pattern.compile("^\\s*([\\w.\\-]+)\\s*(==|!=)\\s*(\\S.*?)\\s*$");

  /** Parses one expression; throws IllegalArgumentException with swarmkit's wording when it is malformed. */
  public static Constraint parse(String expr) {
    Matcher m = FORM.matcher(expr);
    if (!m.matches()) {
      throw new IllegalArgumentException("constraint expected one operator from ==, !=");
    }
    String key = m.group(1).toLowerCase(Locale.ROOT);
    boolean known = key.equals("node.id") || key.equals("node.hostname") || key.equals("node.role")
        || key.equals("node.platform.os") || key.equals("node.platform.arch") || key.equals("node.ip")
        || key.startsWith("node.labels.") || key.startsWith("engine.labels.");
    if (!known) {
      throw new IllegalArgumentException("constraint key is not supported: " + m.group(1));
    }
    // Label keys keep their case: only the "node.labels." prefix is case-insensitive.
    if (key.startsWith("node.labels.") || key.startsWith("engine.labels.")) {
      int dot = key.indexOf(".labels.") + ".labels.".length();
      key = key.substring(0, dot) + m.group(1).substring(dot);
    }
    return new Constraint(key, m.group(2).equals("=="), m.group(3));
  }

  public static List<Constraint> parseAll(List<String> exprs) {
    return exprs == null ? List.of() : exprs.stream().map(Constraint::parse).toList();
  }

  public boolean matches(NodeEntity.State node) {
    String actual = switch (key) {
      case "node.id" -> node.id();
      case "node.hostname" -> node.description().hostname();
      case "node.role" -> node.spec().role();
      case "node.platform.os" -> node.description().os();
      case "node.platform.arch" -> node.description().architecture();
      case "node.ip" -> node.addr();
      default -> labels(node).get(key.substring(key.indexOf(".labels.") + ".labels.".length()));
    };
    boolean same = actual != null
        && (key.equals("node.ip") && value.contains("/") ? inSubnet(actual, value) : actual.equalsIgnoreCase(value));
    return equal == same;
  }

  /** node.ip==10.0.0.0/8: whether the address is in the subnet (false when either does not parse). */
  private static boolean inSubnet(String ip, String cidr) {
    try {
      byte[] addr = InetAddress.getByName(ip).getAddress();
      int slash = cidr.indexOf('/');
      byte[] net = InetAddress.getByName(cidr.substring(0, slash)).getAddress();
      int bits = Integer.parseInt(cidr.substring(slash + 1));
      if (addr.length != net.length || bits < 0 || bits > addr.length * 8) {
        return false;
      }
      for (int i = 0; i < bits; i++) {
        int mask = 0x80 >> (i % 8);
        if ((addr[i / 8] & mask) != (net[i / 8] & mask)) {
          return false;
        }
      }
      return true;
    } catch (UnknownHostException | NumberFormatException e) {
      return false;
    }
  }

  private Map<String, String> labels(NodeEntity.State node) {
    Map<String, String> labels = key.startsWith("engine.") ? node.description().engineLabels() : node.spec().labels();
    return labels == null ? Map.of() : labels;
  }
}
