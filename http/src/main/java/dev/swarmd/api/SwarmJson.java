package dev.swarmd.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.swarmd.swarm.SwarmCa;
import dev.swarmd.swarm.SwarmEntity;

/** The swarm object in Docker's JSON (GET /swarm, and /info's Swarm.Cluster without tokens). */
final class SwarmJson {
  private SwarmJson() {}

  static ObjectNode render(SwarmEntity.State s, boolean withTokens) {
    SwarmEntity.Settings set = s.settings();
    ObjectNode o = Json.object();
    o.put("ID", s.clusterId());
    o.putObject("Version").put("Index", s.version());
    o.put("CreatedAt", Json.time(s.createdAt()));
    o.put("UpdatedAt", Json.time(s.updatedAt()));
    ObjectNode spec = o.putObject("Spec");
    spec.put("Name", set.name());
    spec.putObject("Labels");
    spec.putObject("Orchestration").put("TaskHistoryRetentionLimit", set.taskHistoryRetentionLimit());
    ObjectNode raft = spec.putObject("Raft");
    raft.put("SnapshotInterval", set.snapshotInterval());
    raft.put("KeepOldSnapshots", 0);
    raft.put("LogEntriesForSlowFollowers", 500);
    raft.put("ElectionTick", 10);
    raft.put("HeartbeatTick", 1);
    spec.putObject("Dispatcher").put("HeartbeatPeriod", set.heartbeatPeriod());
    spec.putObject("CAConfig").put("NodeCertExpiry", set.nodeCertExpiry());
    spec.putObject("TaskDefaults");
    spec.putObject("EncryptionConfig").put("AutoLockManagers", false);
    o.set("TLSInfo", Json.MAPPER.valueToTree(SwarmCa.tlsInfo(s.caCertPem())));
    o.put("RootRotationInProgress", false);
    s.addressPool().pools().forEach(o.putArray("DefaultAddrPool")::add);
    o.put("SubnetSize", s.addressPool().subnetSize());
    o.put("DataPathPort", set.dataPathPort());
    if (withTokens) {
      ObjectNode tokens = o.putObject("JoinTokens");
      tokens.put("Worker", s.workerToken());
      tokens.put("Manager", s.managerToken());
    }
    return o;
  }
}
