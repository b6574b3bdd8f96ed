// kafka_mock: a Kafka cluster for integration tests and demos on a machine
// with no Kafka broker (docs/KAFKA.md). It owns librdkafka's in-process mock
// cluster, which speaks the real protocol on loopback TCP, writes the
// bootstrap list to --bootstrap-file and runs until SIGTERM or SIGINT.
//
//   kafka_mock --brokers 3 --bootstrap-file /tmp/k/bootstrap --topic flows.telemetry.v1:3
//
// The file appears complete or not at all (written beside, then renamed), so a
// script may wait for it to exist and read it. Topics not created here are
// created on first use with the mock's defaults.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
  // Block the stop signals before librdkafka starts its threads, so they are
  // delivered only to sigwait() below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  CLI::App app{"In-process Kafka mock cluster (librdkafka) for tests"};
  int brokers = 3;
  std::string bootstrap_file;
  std::vector<std::string> topics;
  int replication = 1;
  app.add_option("--brokers", brokers, "number of brokers")->check(CLI::Range(1, 16));
  app.add_option("--bootstrap-file", bootstrap_file, "where to write the bootstrap list")->required();
  app.add_option("--topic", topics, "topic to create, NAME or NAME:PARTITIONS (default 3 partitions)");
  app.add_option("--replication", replication, "replication factor of the created topics")->check(CLI::Range(1, 16));
  CLI11_PARSE(app, argc, argv);

  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // The handle only hosts the cluster; quiet its own logging. A cluster owned
  // through test.mock.num.brokers stops at once; one from
  // rd_kafka_mock_cluster_new() idles up to a second in its destroy.
  if (rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof errstr) != RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf, "test.mock.num.brokers", std::to_string(brokers).c_str(), errstr, sizeof errstr) !=
          RD_KAFKA_CONF_OK) {
    std::cerr << "kafka_mock: " << errstr << "\n";
    rd_kafka_conf_destroy(conf);
    return 1;
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (rk == nullptr) {
    std::cerr << "kafka_mock: " << errstr << "\n";
    rd_kafka_conf_destroy(conf);
    return 1;
  }
  rd_kafka_mock_cluster_t* cluster = rd_kafka_handle_mock_cluster(rk);
  if (cluster == nullptr) {
    std::cerr << "kafka_mock: cannot create the mock cluster\n";
    rd_kafka_destroy(rk);
    return 1;
  }
  int status = 0;
  for (const std::string& spec : topics) {
    std::string name = spec;
    int partitions = 3;
    if (auto colon = spec.rfind(':'); colon != std::string::npos) {
      name = spec.substr(0, colon);
      try {
        partitions = std::stoi(spec.substr(colon + 1));
      } catch (const std::exception&) {
        partitions = 0;
      }
    }
    if (name.empty() || partitions < 1) {
      std::cerr << "kafka_mock: --topic " << spec << ": expected NAME or NAME:PARTITIONS with PARTITIONS >= 1\n";
      status = 2;
      break;
    }
    if (rd_kafka_mock_topic_create(cluster, name.c_str(), partitions, replication) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::cerr << "kafka_mock: cannot create topic " << name << "\n";
      status = 1;
      break;
    }
  }
  if (status == 0) {
    const std::string bootstraps = rd_kafka_mock_cluster_bootstraps(cluster);
    const std::string tmp = bootstrap_file + ".tmp";
    std::ofstream out(tmp, std::ios::trunc);
    out << bootstraps << "\n";
    out.close();
    std::error_code ec;
    if (!out) {
      std::cerr << "kafka_mock: cannot write " << tmp << "\n";
      status = 1;
    } else if (std::filesystem::rename(tmp, bootstrap_file, ec); ec) {
      std::cerr << "kafka_mock: cannot write " << bootstrap_file << ": " << ec.message() << "\n";
      status = 1;
    } else {
      std::cout << "kafka_mock: " << brokers << " brokers at " << bootstraps << std::endl;
      int signal = 0;
      sigwait(&stop_signals, &signal);
      std::cout << "kafka_mock: stopping (signal " << signal << ")" << std::endl;
    }
  }
  rd_kafka_destroy(rk);  // destroys the cluster it owns
  return status;
}
