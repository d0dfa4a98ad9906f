package dev.swarmd.ingress;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * iptables and ip as a node runs them, and who owns the rules a node adds: each rule that hooks
 * into a table the host shares carries a comment naming the process that added it (its pid and
 * start time), so that a node starting later can tell a live node's rules from a killed one's.
 */
final class Iptables {
  private static final long COMMAND_TIMEOUT_SECONDS = 10;
  private static final Pattern OWNER = Pattern.compile("--comment \"?swarmd pid=(\\d+) start=(\\d+)(?: (localnet))?\"?");

  private Iptables() {}

  record Result(int exit, String output) {
    boolean ok() {
      return exit == 0;
    }
  }

  /**
   * The process that added a rule. localnet: it turned route_localnet on for the rule's bridge (or took
   * that duty over from a node that did), so the last such rule to go turns it off again.
   */
  record Owner(long pid, long startMillis, boolean localnet) {
    static Owner self(boolean localnet) {
      ProcessHandle me = ProcessHandle.current();
      return new Owner(me.pid(), startMillis(me).orElse(0L), localnet);
    }

    private static Optional<Long> startMillis(ProcessHandle p) {
      return p.info().startInstant().map(i -> i.toEpochMilli());
    }

    /** The iptables arguments that tag a rule as this owner's. */
    List<String> comment() {
      return List.of("-m", "comment", "--comment",
          "swarmd pid=" + pid + " start=" + startMillis + (localnet ? " localnet" : ""));
    }

    /** The owner named in a rule as `iptables -S` prints it; empty for a rule without one (an older swarmd's). */
    static Optional<Owner> of(String rule) {
      Matcher m = OWNER.matcher(rule);
      return m.find() ? Optional.of(new Owner(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)), m.group(3) != null))
          : Optional.empty();
    }

    /** Whether the process still runs: the same pid with the same start time (a pid may be reused). */
    boolean alive() {
      return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).flatMap(Owner::startMillis)
          .map(s -> s == startMillis).orElse(false);
    }

    boolean sameProcess(Owner o) {
      return pid == o.pid && startMillis == o.startMillis;
    }
  }

  /** The rules of a table as `iptables -S` prints them (chains as -N lines, rules as -A lines). */
  static List<String> rules(String table) {
    Result r = run(List.of("iptables", "-w", "5", "-t", table, "-S"), null);
    return r.ok() ? r.output().lines().toList() : List.of();
  }

  /** Deletes rules given as `iptables -S` prints them, in one commit. */
  static Result delete(String table, List<String> rules) {
    if (rules.isEmpty()) {
      return new Result(0, "");
    }
    StringBuilder script = new StringBuilder("*").append(table).append('\n');
    rules.forEach(r -> script.append("-D").append(r.substring(2)).append('\n'));
    return run(List.of("iptables-restore", "-w", "5", "--noflush"), script.append("COMMIT\n").toString());
  }

  /** Adds the rule at the head of the chain unless it is there already. */
  static Result ensureRule(String table, String hook, List<String> rule) {
    List<String> check = new ArrayList<>(List.of("iptables", "-w", "5", "-t", table, "-C", hook));
    check.addAll(rule);
    if (run(check, null).ok()) {
      return new Result(0, "");
    }
    List<String> insert = new ArrayList<>(List.of("iptables", "-w", "5", "-t", table, "-I", hook, "1"));
    insert.addAll(rule);
    return run(insert, null);
  }

  static Result run(List<String> command, String stdin) {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      try (OutputStream in = p.getOutputStream()) {
        if (stdin != null) {
          in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
      }
      boolean done = p.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      if (!done) {
        p.destroyForcibly();
        return new Result(-1, String.join(" ", command) + ": timed out");
      }
      return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim());
    } catch (IOException e) {
      return new Result(-1, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Result(-1, "interrupted");
    }
  }
}
