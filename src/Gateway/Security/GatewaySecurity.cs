using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace OptimizationRuns.Gateway.Security;

/// <summary>
/// The gateway's defences against abuse, in the order a request meets them: security headers on every answer, no API
/// key in a URL, per-key rate limits; and Kestrel's limits against slow clients (<c>Security:RequestHeadersTimeout</c>,
/// default 10 s, for the whole request head; <c>Security:MinRequestBodyBytesPerSecond</c>, default 240, after a 5 s
/// grace). Threat model: docs/threat-model.md.
/// </summary>
public static class GatewaySecurity
{
    public static readonly TimeSpan DefaultRequestHeadersTimeout = TimeSpan.FromSeconds(10);
    public const double DefaultMinRequestBodyBytesPerSecond = 240;

    public static WebApplicationBuilder AddGatewaySecurity(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.RequestHeadersTimeout = configuration.GetValue("Security:RequestHeadersTimeout", DefaultRequestHeadersTimeout);
            kestrel.Limits.MinRequestBodyDataRate = new MinDataRate(
                configuration.GetValue("Security:MinRequestBodyBytesPerSecond", DefaultMinRequestBodyBytesPerSecond), TimeSpan.FromSeconds(5));
        });
        builder.Services.AddGatewayRateLimits(configuration);
        return builder;
    }

    public static IApplicationBuilder UseGatewaySecurity(this IApplicationBuilder app) =>
        app.UseSecurityHeaders().UseKeyInQueryRefusal().UseRateLimiter();
}
