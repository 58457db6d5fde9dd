#include "agents/smtp_listener.hpp"

#include "agents/session_tracer.hpp"
#include "agents/tls_policy.hpp"

namespace smtplab::agents {

absl::Status listen_smtp(const HostContext& context, int port, smtp::ServerPolicy& policy,
                         const ServerEndpointSettings& settings, const std::string& agent_name) {
  sim::Trace* trace = context.trace;
  const std::string host = context.host;
  ServerEndpointSettings with_tls_trace = settings;
  if (trace != nullptr && settings.tls) {
    with_tls_trace.on_tls = [trace, host, agent_name](const sim::ConnectionInfo& info, const tls::HandshakeReport& r) {
      sim::TraceEvent e;
      e.host = host;
      e.agent = agent_name;
      e.connection = info.connection_id;
      describe_server_handshake(r, info.peer_host.empty() ? info.peer_address : info.peer_host, e);
      if (trace->wants(e.kind)) trace->record(std::move(e));
    };
  }
  return context.network.listen(
      host, port, [&policy, settings = std::move(with_tls_trace), trace, host, agent_name](const sim::ConnectionInfo& info) {
        std::unique_ptr<smtp::SessionObserver> tracer;
        if (trace != nullptr) {
          tracer = std::make_unique<SessionTracer>(*trace, host, agent_name,
                                                   info.peer_host.empty() ? info.peer_address : info.peer_host,
                                                   info.connection_id);
        }
        return std::make_unique<SmtpServerEndpoint>(policy, settings, info, std::move(tracer));
      });
}

}  // namespace smtplab::agents
