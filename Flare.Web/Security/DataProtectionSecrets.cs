using Flare.Data.Security;
using Flare.Web.Hosting;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Options;

namespace Flare.Web.Security;

/// <summary>
/// Backend API keys encrypted with ASP.NET Core Data Protection. The key ring lives in
/// <c>&lt;DataDirectory&gt;/keys</c> beside the database, so the two move together; protect that folder
/// (or set <c>Flare:DataProtection:CertificatePath</c> to encrypt the key ring with a certificate).
/// </summary>
internal sealed class DataProtectionSecrets(IDataProtectionProvider provider) : ISecretProtector
{
    private readonly IDataProtector _protector = provider.CreateProtector("Flare.DeploymentApiKeys.v1");

    public string Protect(string plaintext) => _protector.Protect(plaintext);

    public string Unprotect(string protectedValue) => _protector.Unprotect(protectedValue);

    public static void AddFlareDataProtection(WebApplicationBuilder builder)
    {
        var dataProtection = builder.Services.AddDataProtection().SetApplicationName("Flare");
        if (builder.Configuration["Flare:DataProtection:CertificatePath"] is { Length: > 0 } certificate)
        {
            dataProtection.ProtectKeysWithCertificate(
                System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12FromFile(
                    certificate, builder.Configuration["Flare:DataProtection:CertificatePassword"]));
        }

        // The folder is resolved when the key ring is first needed, from the options then in force (tests set
        // the data directory late), rather than while the host is being built.
        builder.Services.AddOptions<KeyManagementOptions>().Configure<IOptions<FlareOptions>, IHostEnvironment, ILoggerFactory>((o, flare, env, logs) =>
        {
            var keys = new DirectoryInfo(Path.Combine(Path.GetFullPath(flare.Value.DataDirectory, env.ContentRootPath), "keys"));
            keys.Create();
            o.XmlRepository = new FileSystemXmlRepository(keys, logs);
        });
        builder.Services.AddSingleton<ISecretProtector, DataProtectionSecrets>();
    }
}
