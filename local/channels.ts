/**
 * The sms and email channels on the local stack's moto server: the sender identity deploy verifies, and what moto
 * recorded as sent, read back for tests and the drill.
 *
 * moto keeps every SMS published to a phone number (`sns.SMS`: message_id, phone_number, message) and every email sent
 * (`ses.Message` for Simple content, `ses.RawMessage` for Raw: id, source, destinations, raw_data) in memory, and
 * shows them in its model dump `GET /moto-api/data.json` (moto documentation, "Moto API / Dashboard"). It records no
 * send time: a caller that needs one times its own reads. `POST /moto-api/reset` clears them with everything else.
 */
import { AlreadyExistsException, CreateEmailIdentityCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import PostalMime from 'postal-mime';

/**
 * Creates the SES email identity `address` (moto marks it verified at once; on AWS the owner must click a link). An
 * existing identity is kept. Errors: the SDK's.
 */
export async function verifyLocalSender(ses: SESv2Client, address: string): Promise<void> {
  try {
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: address }));
  } catch (err) {
    if (!(err instanceof AlreadyExistsException)) throw err;
  }
}

export interface RecordedSms {
  messageId: string;
  phoneNumber: string;
  message: string;
}

export interface RecordedEmail {
  messageId: string;
  source: string;
  to: string[];
  subject: string;
  text: string;
  /** Header fields in lower case (the last value of a repeated field). */
  headers: Record<string, string>;
  /** The notification id the sender put in `X-Quake-Notification-Id` (shared/notify/email.ts). */
  notificationId?: string;
}

interface MotoDump {
  sns?: { SMS?: { message_id: string; phone_number: string; message: string }[] };
  ses?: {
    RawMessage?: { id: string; source: string; destinations: string[]; raw_data: string }[];
    Message?: { id: string; source: string; subject: string; body: string; destinations: { ToAddresses?: string[] } }[];
  };
}

async function dump(endpoint: string): Promise<MotoDump> {
  const r = await fetch(`${endpoint.replace(/\/$/, '')}/moto-api/data.json`, { signal: AbortSignal.timeout(10_000) });
  if (!r.ok) throw new Error(`moto ${endpoint}: /moto-api/data.json answered ${r.status}`);
  return (await r.json()) as MotoDump;
}

/** Every SMS moto recorded, in send order. Errors: moto unreachable or not answering 200. */
export async function recordedSms(endpoint: string): Promise<RecordedSms[]> {
  const d = await dump(endpoint);
  return (d.sns?.SMS ?? []).map((m) => ({ messageId: m.message_id, phoneNumber: m.phone_number, message: m.message }));
}

/** Every email moto recorded, in send order, raw MIME messages parsed (postal-mime). Errors: as `recordedSms`. */
export async function recordedEmails(endpoint: string): Promise<RecordedEmail[]> {
  const d = await dump(endpoint);
  const out: RecordedEmail[] = [];
  for (const m of d.ses?.RawMessage ?? []) {
    const mail = await PostalMime.parse(m.raw_data);
    const headers: Record<string, string> = {};
    for (const h of mail.headers) headers[h.key.toLowerCase()] = h.value;
    out.push({
      messageId: m.id,
      source: m.source,
      to: m.destinations,
      subject: mail.subject ?? '',
      text: mail.text ?? '',
      headers,
      notificationId: headers['x-quake-notification-id'],
    });
  }
  for (const m of d.ses?.Message ?? []) {
    out.push({
      messageId: m.id,
      source: m.source,
      to: m.destinations.ToAddresses ?? [],
      subject: m.subject,
      text: m.body,
      headers: {},
    });
  }
  return out;
}
