#include "agents/smtp_listener.hpp"

#include "agents/session_tracer.hpp"

namespace smtplab::agents {

absl::Status listen_smtp(const HostContext& context, int port, smtp::ServerPolicy& policy,
                         const ServerEndpointSettings& settings, const std::string& agent_name) {
  sim::Trace* trace = context.trace;
  const std::string host = context.host;
  return context.network.listen(
      host, port, [&policy, settings, trace, host, agent_name](const sim::ConnectionInfo& info) {
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
