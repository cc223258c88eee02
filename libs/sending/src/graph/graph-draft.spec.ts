import { composeJson } from '../mime/compose-json';
import { graphDraftOf } from './graph-draft';

describe('graphDraftOf', () => {
  it('the stored MIME as a Graph JSON message: recipients, html body, our Message-ID, X- headers only, attachments with their bytes', async () => {
    const composed = await composeJson(
      {
        to: ['Ben <ben@contoso.com>'],
        cc: [{ name: 'Carla', address: 'carla@fabrikam.com' }],
        bcc: ['eve@contoso.com'],
        replyTo: ['desk@contoso.com'],
        subject: 'Offer',
        text: 'plain',
        html: '<p>Hi <img src="cid:logo@contoso"></p>',
        inReplyTo: '<a@contoso.com>',
        references: ['<r1@contoso.com>', '<a@contoso.com>'],
        headers: { 'X-CRM-Ticket': '4711' },
        attachments: [{ filename: 'offer.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF-1.4').toString('base64') }],
      } as never,
      { email: 'ana@contoso.com' },
      '<send-1@contoso.com>',
    );
    const { draft, attachments } = await graphDraftOf(composed.raw, composed.messageId, ['eve@contoso.com']);
    expect(draft).toEqual({
      subject: 'Offer',
      body: { contentType: 'html', content: '<p>Hi <img src="cid:logo@contoso"></p>' },
      toRecipients: [{ emailAddress: { name: 'Ben', address: 'ben@contoso.com' } }],
      ccRecipients: [{ emailAddress: { name: 'Carla', address: 'carla@fabrikam.com' } }],
      bccRecipients: [{ emailAddress: { address: 'eve@contoso.com' } }],
      replyTo: [{ emailAddress: { address: 'desk@contoso.com' } }],
      internetMessageId: '<send-1@contoso.com>',
      // As the stored MIME has it (nodemailer capitalises header names); In-Reply-To and References go as MAPI properties.
      internetMessageHeaders: [{ name: 'X-Crm-Ticket', value: '4711' }],
      singleValueExtendedProperties: [
        { id: 'String 0x1042', value: '<a@contoso.com>' },
        { id: 'String 0x1039', value: '<r1@contoso.com> <a@contoso.com>' },
      ],
    });
    expect(attachments).toEqual([{ name: 'offer.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF-1.4'), isInline: false, contentId: null }]);
  });
});
