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
        // With PostgreSQL every host reads the one key ring in the shared database.
        builder.Services.AddOptions<KeyManagementOptions>().Configure<IOptions<FlareOptions>, IHostEnvironment, ILoggerFactory, IConfiguration>((o, flare, env, logs, configuration) =>
        {
            if (flare.Value.Database == Flare.Data.DatabaseProvider.Postgres)
            {
                o.XmlRepository = new PostgresXmlRepository(FlareHost.PostgresConnectionString(configuration));
                return;
            }

            var keys = new DirectoryInfo(Path.Combine(Path.GetFullPath(flare.Value.DataDirectory, env.ContentRootPath), "keys"));
            keys.Create();
            o.XmlRepository = new FileSystemXmlRepository(keys, logs);
        });
        builder.Services.AddSingleton<ISecretProtector, DataProtectionSecrets>();
    }
}

/// <summary>
/// Data Protection's key ring in the shared PostgreSQL database (<see cref="DataProtectionKeyEntity"/>'s table, created by
/// the migrations), for hosts that share one. Plain Npgsql rather than EF Core: Flare's DbContext encrypts secrets with
/// this very key ring, so it cannot be what loads it.
/// </summary>
internal sealed class PostgresXmlRepository(string connectionString) : IXmlRepository
{
    public IReadOnlyCollection<System.Xml.Linq.XElement> GetAllElements()
    {
        using var connection = new Npgsql.NpgsqlConnection(connectionString);
        connection.Open();
        using var command = new Npgsql.NpgsqlCommand("SELECT \"Xml\" FROM \"DataProtectionKeys\" ORDER BY \"Id\"", connection);
        using var reader = command.ExecuteReader();
        var keys = new List<System.Xml.Linq.XElement>();
        while (reader.Read())
        {
            keys.Add(System.Xml.Linq.XElement.Parse(reader.GetString(0)));
        }

        return keys;
    }

    public void StoreElement(System.Xml.Linq.XElement element, string friendlyName)
    {
        using var connection = new Npgsql.NpgsqlConnection(connectionString);
        connection.Open();
        using var command = new Npgsql.NpgsqlCommand("INSERT INTO \"DataProtectionKeys\" (\"FriendlyName\", \"Xml\") VALUES (@name, @xml)", connection);
        command.Parameters.AddWithValue("name", friendlyName);
        command.Parameters.AddWithValue("xml", element.ToString(System.Xml.Linq.SaveOptions.DisableFormatting));
        command.ExecuteNonQuery();
    }
}
