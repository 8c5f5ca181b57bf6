/**
 * Markdown as people write it in comments, rendered safely: raw HTML is shown as text (markdown-it
 * with `html: false` escapes it), only http(s) and mailto links are made (its link check refuses
 * javascript: and data: URLs), and links open in a new tab with rel="noopener noreferrer nofollow".
 */
import MarkdownIt from 'markdown-it';

const md = new MarkdownIt({ html: false, linkify: true, breaks: true });

const defaultLinkOpen = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  tokens[idx].attrSet('target', '_blank');
  tokens[idx].attrSet('rel', 'noopener noreferrer nofollow');
  return defaultLinkOpen(tokens, idx, options, env, self);
};
const SAFE_LINK = /^(https?:|mailto:|#|\/)/i;
const defaultValidate = md.validateLink.bind(md);
md.validateLink = (url) => defaultValidate(url) && SAFE_LINK.test(url.trim());

export function Markdown({ text }: { text: string }) {
  // biome-ignore lint/security/noDangerouslySetInnerHtml: markdown-it renders with html off, so the text cannot carry markup of its own
  return <div className="markdown" dangerouslySetInnerHTML={{ __html: md.render(text) }} />;
}
