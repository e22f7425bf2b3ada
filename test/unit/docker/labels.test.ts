import { LabelFilter, sanitizeLabelKey } from '../../../src/collectors/docker/labels';

const anchored = (re: string): RegExp => new RegExp(`^(?:${re})$`);

describe('sanitizeLabelKey', () => {
  it("replaces every code point outside [a-zA-Z0-9_] with _ (cAdvisor's sanitizeLabelName)", () => {
    expect(sanitizeLabelKey('com.docker.compose.project')).toBe('com_docker_compose_project');
    expect(sanitizeLabelKey('org.example/quote')).toBe('org_example_quote');
    expect(sanitizeLabelKey('unicode.ключ')).toBe('unicode_____');
    expect(sanitizeLabelKey('emoji😀x')).toBe('emoji_x');
    expect(sanitizeLabelKey('9lives')).toBe('9lives');
  });
});

describe('LabelFilter', () => {
  const labels = {
    'com.docker.compose.project': 'shop',
    'com.docker.compose.service': 'web',
    'com.docker.compose.config-hash': 'abc',
    'org.opencontainers.image.revision': 'deadbeef',
    team: 'payments',
  };

  it('exports every label by default with the container_label_ prefix', () => {
    const f = new LabelFilter(anchored('.*'), undefined);
    expect(f.containerLabels(labels)).toEqual({
      container_label_com_docker_compose_project: 'shop',
      container_label_com_docker_compose_service: 'web',
      container_label_com_docker_compose_config_hash: 'abc',
      container_label_org_opencontainers_image_revision: 'deadbeef',
      container_label_team: 'payments',
    });
  });

  it('keeps compose project and service even when the include regex does not name them', () => {
    const f = new LabelFilter(anchored('team'), undefined);
    expect(Object.keys(f.containerLabels(labels)).sort()).toEqual([
      'container_label_com_docker_compose_project',
      'container_label_com_docker_compose_service',
      'container_label_team',
    ]);
  });

  it('lets the exclude regex win, compose labels included', () => {
    const f = new LabelFilter(
      undefined,
      anchored('org\\.opencontainers\\..*|com\\.docker\\.compose\\.service'),
    );
    expect(Object.keys(f.containerLabels(labels))).not.toContain(
      'container_label_com_docker_compose_service',
    );
    expect(Object.keys(f.containerLabels(labels))).not.toContain(
      'container_label_org_opencontainers_image_revision',
    );
    expect(Object.keys(f.containerLabels(labels))).toContain('container_label_team');
  });

  it('keeps the first key in byte order when two keys sanitise to the same name', () => {
    const f = new LabelFilter(undefined, undefined);
    expect(f.containerLabels({ 'a-b': '2', 'a.b': '1' })).toEqual({ container_label_a_b: '2' });
    expect(f.containerLabels(null)).toEqual({});
  });

  it('passes hostile values through untouched (escaping is the encoder’s job)', () => {
    const f = new LabelFilter(undefined, undefined);
    expect(f.containerLabels({ q: 'say "hi"\\\nnew ✓' })).toEqual({ container_label_q: 'say "hi"\\\nnew ✓' });
  });
});
